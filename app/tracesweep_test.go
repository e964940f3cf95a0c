package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestTraceSweepSaysWhatItDid: `trace sweep` clears the record of a child
// that exited, keeps a running one's, and says so (issue 32: it printed
// nothing).
func TestTraceSweepSaysWhatItDid(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	if err := forktrace.CreateRing(spool); err != nil {
		t.Fatal(err)
	}
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(forktrace.RingPath(spool), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	old := float64(time.Now().Add(-time.Minute).Unix())
	for _, pid := range []int{exited.Process.Pid, os.Getpid()} {
		rec := forktrace.Record{PID: pid, PPID: 1234, Time: old, Format: 1, Python: "3.12.1", Threads: 2, Argv0: "forker.py",
			Stack: []report.ForkFrame{{File: "/src/forker.py", Line: 8, Function: "run_jobs"}}}
		b, _ := json.Marshal(rec)
		f.WriteAt(append(b, '\n'), int64(rec.PID%forktrace.Slots)*forktrace.SlotSize)
	}
	f.Close()
	var out, errb bytes.Buffer
	if code := runTraceSweep(spool, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "cleared 1 record of exited children; kept 1 of running ones") {
		t.Errorf("trace sweep printed %q", out.String())
	}
	if _, err := forktrace.Lookup(spool, exited.Process.Pid); err == nil {
		t.Error("the exited child's record is still there")
	}
}
