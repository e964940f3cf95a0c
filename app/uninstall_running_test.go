package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestUninstallWhileWatchRuns: with a real `watch` running, `uninstall`
// refuses, names its pid and removes nothing (issue 32: it removed the
// support folder under the running watch, which went on printing crashes
// it no longer recorded); `uninstall --stop` stops it cleanly (SIGTERM:
// exit 0) and then removes everything.
func TestUninstallWhileWatchRuns(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	home := envValue(env, "HOME")
	reports := filepath.Join(home, "reports")
	os.MkdirAll(reports, 0o755)
	support := filepath.Join(home, ".config", "forkwatch")
	p := startForkwatch(t, env, "watch", "--reports-dir", reports, "--cores-dir", "")
	p.ready()
	pid := strconv.Itoa(p.cmd.Process.Pid)

	out, code := runBin(t, env, "uninstall")
	if code != exitFailed || !strings.Contains(out, "pid "+pid) || !strings.Contains(out, "nothing was removed") || !strings.Contains(out, "--stop") {
		t.Errorf("uninstall beside a running watch: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(support, "history.db")); err != nil {
		t.Errorf("the refused uninstall removed the history: %v", err)
	}
	select {
	case <-p.done:
		t.Fatal("the refused uninstall stopped watch")
	default:
	}

	start := time.Now()
	out, code = runBin(t, env, "uninstall", "--stop")
	if code != exitOK || !strings.Contains(out, "stopped Forkwatch (pid "+pid+")") {
		t.Errorf("uninstall --stop: exit %d:\n%s", code, out)
	}
	select {
	case <-p.done:
	case <-time.After(wait):
		t.Fatal("watch still runs after uninstall --stop")
	}
	if c := p.cmd.ProcessState.ExitCode(); c != 0 {
		t.Errorf("watch stopped with exit %d, want a clean 0; stderr:\n%s", c, p.stderr())
	}
	if _, err := os.Stat(support); !os.IsNotExist(err) {
		t.Errorf("support folder left after uninstall --stop: %v", err)
	}
	t.Logf("uninstall --stop took %v", time.Since(start))

	// Nothing running: uninstall proceeds at once (and --stop has nothing
	// to stop).
	if out, code := runBin(t, env, "uninstall", "--stop"); code != exitOK || strings.Contains(out, "stopping") {
		t.Errorf("uninstall --stop with nothing running: exit %d:\n%s", code, out)
	}
}
