package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/history"
)

// TestSampleReportsKeptAcrossRestarts: every sample report (most dated
// years ago) that `watch` announced is still in `history` after two
// restarts, and `status` says nothing was removed; once the retention
// (counted from when Forkwatch recorded them) has passed and the history
// is pruned, `status` counts what went. Issue 32: six crashes printed,
// two listed after a restart, one more gone after another.
func TestSampleReportsKeptAcrossRestarts(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	home := envValue(env, "HOME")
	reports := filepath.Join(home, "reports")
	os.MkdirAll(reports, 0o755)
	entries, err := os.ReadDir(filepath.Join("..", "monitor", "report", "testdata", "reports"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, sample(e.Name()), filepath.Join(reports, e.Name()))
	}
	listed := func() int {
		out, code := runBinStdout(t, env, "history", "--json", "--all")
		if code != 0 {
			t.Fatalf("history --json: exit %d", code)
		}
		return strings.Count(out, "\n")
	}
	var first int
	for run := 0; run < 3; run++ {
		p := startForkwatch(t, env, "watch", "--json", "--reports-dir", reports, "--cores-dir", "", "--quiet-after", "200ms")
		p.ready()
		if run == 0 {
			for {
				l, ok := p.next(3 * time.Second)
				if !ok {
					break
				}
				if strings.Contains(l, `"kind":"crash"`) {
					first++
				}
			}
			if first < 20 {
				t.Fatalf("watch announced %d crashes from %d sample reports; stderr:\n%s", first, len(entries), p.stderr())
			}
		}
		if code := p.stop(); code != 0 {
			t.Fatalf("watch exited %d", code)
		}
		if n := listed(); n != first {
			t.Errorf("after start %d: history lists %d crashes, watch announced %d", run+1, n, first)
		}
	}
	out, _ := runBin(t, env, "status")
	if !strings.Contains(out, "history: no crash removed by the retention") {
		t.Errorf("status does not say that nothing was removed:\n%s", out)
	}
	// A year and a day later, the pruning at the next start removes them
	// and says so; status counts them.
	later := time.Now().Add(history.DefaultMaxAge + 24*time.Hour)
	var heard []history.Pruned
	d, err := history.Open(filepath.Join(home, ".config", "forkwatch", "history.db"), history.Options{PruneEvery: -1, Now: func() time.Time { return later }, OnPrune: func(p history.Pruned) { heard = append(heard, p) }})
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.Prune(context.Background())
	d.Close()
	if err != nil || n != first || len(heard) != 1 {
		t.Fatalf("pruned %d (%v), heard %+v; want %d", n, err, heard, first)
	}
	out, _ = runBin(t, env, "status")
	if want := "history: " + strconv.Itoa(first) + " crashes removed by the retention"; !strings.Contains(out, want) {
		t.Errorf("status does not say %q:\n%s", want, out)
	}
	if line := prunedLine(heard[0], false); !strings.Contains(line, "history: removed "+strconv.Itoa(first)+" crashes recorded before") {
		t.Errorf("watch's line: %q", line)
	}
}
