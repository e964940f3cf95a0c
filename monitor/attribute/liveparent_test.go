package attribute

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startForkingParent starts cmd, a real interpreter that forks children and
// writes their pids (space-separated) to pidFile, and waits until at least
// two are there (bounded; each check 20 ms apart). The parent and its
// children are killed when the test ends. what names the parent in the
// failure.
func startForkingParent(t *testing.T, cmd *exec.Cmd, pidFile string, bound time.Duration, what string) []int {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var children []int
	t.Cleanup(func() {
		for _, c := range children {
			if p, err := os.FindProcess(c); err == nil {
				_ = p.Kill()
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(bound); len(children) < 2 && time.Now().Before(deadline); {
		if b, err := os.ReadFile(pidFile); err == nil {
			children = children[:0]
			for _, f := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(f); err == nil {
					children = append(children, n)
				}
			}
		}
		if len(children) < 2 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if len(children) < 2 {
		t.Fatalf("%s never forked its children", what)
	}
	return children
}
