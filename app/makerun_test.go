package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestWatchOffMacOSSaysWhatItWatches: with the default folders off macOS,
// `watch` says in one line which folders it watches (macOS's, which this
// system lacks) and how to choose others; nothing else says it again
// (issue 32: two lines said the same thing, and no way to choose).
func TestWatchOffMacOSSaysWhatItWatches(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("macOS has the folders")
	}
	t.Parallel()
	p := startForkwatch(t, nil, "watch")
	line, ok := p.next(wait)
	if !ok {
		t.Fatalf("watch printed nothing; stderr:\n%s", p.stderr())
	}
	home := envValue(p.cmd.Env, "HOME")
	want := "Watching macOS's folders " + filepath.Join(home, "Library", "Logs", "DiagnosticReports")
	if !strings.HasPrefix(line, want) || !strings.Contains(line, `--reports-dir DIR (make run ARGS="--reports-dir DIR")`) || !strings.Contains(line, "Ctrl-C to stop") {
		t.Errorf("first line %q", line)
	}
	p.quiet(time.Second)
	if strings.Contains(p.stderr(), "does not exist yet") {
		t.Errorf("said twice; stderr:\n%s", p.stderr())
	}
}

// TestMakeRunPassesArgs: `make run ARGS=...` hands ARGS to the app and to
// the terminal mode it falls back to.
func TestMakeRunPassesArgs(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	out, err := exec.Command("make", "-n", "-C", "..", "run", "ARGS=--reports-dir /tmp/reports").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "bin/forkwatch --reports-dir /tmp/reports;") || !strings.Contains(string(out), "exec bin/forkwatch watch --reports-dir /tmp/reports;") {
		t.Errorf("make run does not pass ARGS to both:\n%s", out)
	}
}
