package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadFileReportedOnce: a file in a watched folder that is not a crash
// report is reported at the first start and not at the next ones (issue
// 32: at every start); changed while Forkwatch was stopped, it is read and
// reported afresh.
func TestBadFileReportedOnce(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	garbage := filepath.Join(s.reports, "garbage.crash")
	os.WriteFile(garbage, []byte(strings.Repeat("not a crash report\n", 50)), 0o644)
	if err := mkfifo(filepath.Join(s.reports, "fifo.ips")); err != nil {
		t.Fatal(err)
	}
	copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(s.reports, "good.ips"))
	start := func() *proc {
		p := startForkwatch(t, nil, s.args()...)
		p.ready()
		return p
	}
	p := start()
	got := map[string]string{}
	for len(got) < 3 {
		ev := p.event(wait)
		got[filepath.Base(ev["path"].(string))] = ev["kind"].(string)
	}
	if got["garbage.crash"] != "error" || got["fifo.ips"] != "error" || got["good.ips"] != "crash" {
		t.Fatalf("first start: %v", got)
	}
	p.quiet(1500 * time.Millisecond)
	if code := p.stop(); code != 0 {
		t.Fatalf("watch exited %d", code)
	}
	for i := 0; i < 2; i++ {
		p = start()
		p.quiet(1500 * time.Millisecond) // longer than --quiet-after: nothing said again
		p.stop()
	}
	// Changed while stopped: read afresh, reported once more.
	f, _ := os.OpenFile(garbage, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("still not a crash report\n")
	f.Close()
	later := time.Now().Add(time.Minute)
	os.Chtimes(garbage, later, later)
	p = start()
	ev := p.event(wait)
	if ev["kind"] != "error" || filepath.Base(ev["path"].(string)) != "garbage.crash" {
		t.Errorf("the changed bad file: %v", ev)
	}
	p.quiet(1500 * time.Millisecond)
}
