package forktrace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestRiskyForksRereadsTheEndMark: a child that marks its exec after its
// slot was read and has ended when its liveness is asked (exec'd /bin/true
// and was reaped in between) is not "ended without exec": the mark, final
// once the child is gone, is read again. A child that ended with no mark
// stays risky. (Seen under load: TestRiskyForkWarningEndToEnd warned for a
// fork followed by exec.)
func TestRiskyForksRereadsTheEndMark(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	if err := CreateRing(spool); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(RingPath(spool), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const execd, vanished = 4_000_001, 4_000_002
	for i, pid := range []int{execd, vanished} {
		rec := Record{PID: pid, PPID: 1, Time: float64(time.Now().Unix()), Format: 2, Threaded: true, Cwd: "/p", Argv0: "/p/a.py",
			Stack: []report.ForkFrame{{File: "/p/a.py", Line: 10 + i, Function: "f"}}}
		b, _ := json.Marshal(rec)
		if _, err := f.WriteAt(append(b, '\n'), int64(pid%Slots)*SlotSize); err != nil {
			t.Fatal(err)
		}
	}
	alive := func(pid int) bool {
		if pid == execd { // its mark lands between the read and this question
			f.WriteAt([]byte(fmt.Sprintf("%-10d%-5s\n", pid, "exec")), int64(pid%Slots+1)*SlotSize-TrailerSize)
		}
		return false
	}
	risky, _, err := RiskyForks(spool, time.Now(), alive)
	if err != nil {
		t.Fatal(err)
	}
	if len(risky) != 1 || risky[0].PID != vanished {
		for _, r := range risky {
			t.Errorf("risky: %d end %q", r.PID, r.End)
		}
		t.Fatalf("%d risky, want only %d", len(risky), vanished)
	}
}
