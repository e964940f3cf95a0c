package monitor

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers: lower rooms never import higher ones. monitor/report is pure
// (no watcher, no fsnotify, no SQL); monitor/attribute does not know the
// watcher; the history and the tracer need a Report, not the watcher.
func TestLayers(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", "github.com/forkwatch/forkwatch/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{"monitor/report", []string{"github.com/forkwatch/forkwatch/monitor", "github.com/fsnotify/fsnotify", "modernc.org/sqlite", "github.com/forkwatch/forkwatch/monitor/attribute", "github.com/forkwatch/forkwatch/monitor/project", "github.com/forkwatch/forkwatch/settings"}},
		{"monitor/attribute", []string{"github.com/forkwatch/forkwatch/monitor", "github.com/fsnotify/fsnotify", "modernc.org/sqlite", "github.com/forkwatch/forkwatch/settings"}},
		// monitor/project: files in, findings out; below attribute (which
		// asks it) and above report (whose tool table it uses).
		{"monitor/project", []string{"github.com/forkwatch/forkwatch/monitor", "github.com/forkwatch/forkwatch/monitor/attribute", "github.com/forkwatch/forkwatch/monitor/history", "github.com/forkwatch/forkwatch/monitor/forktrace", "github.com/fsnotify/fsnotify", "modernc.org/sqlite", "github.com/forkwatch/forkwatch/settings", "github.com/forkwatch/forkwatch/app"}},
		{"monitor/forktrace", []string{"github.com/forkwatch/forkwatch/monitor", "github.com/fsnotify/fsnotify", "modernc.org/sqlite"}},
		{"monitor", []string{"modernc.org/sqlite", "github.com/forkwatch/forkwatch/settings"}},
	}
	for _, tc := range cases {
		for _, d := range deps(tc.pkg) {
			for _, f := range tc.forbidden {
				if d == f {
					t.Errorf("%s depends on %s", tc.pkg, f)
				}
			}
		}
	}
}
