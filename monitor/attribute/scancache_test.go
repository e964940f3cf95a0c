package attribute

import (
	"errors"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/project"
)

// TestProjectScanOncePerLoop: a crash loop of one project reads the
// project's configuration once per scanTTL, not once per crash (it is on
// the detection path); a change is seen after scanTTL, a failed scan is not
// kept, and each project has its own entry.
func TestProjectScanOncePerLoop(t *testing.T) {
	a := NewAttributor()
	clock := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return clock }
	calls := map[string]int{}
	fail := false
	a.scanProject = func(dir string, uid int) (project.Result, error) {
		calls[dir]++
		if fail {
			return project.Result{}, errors.New("unreadable")
		}
		return project.Result{Dir: dir, Findings: []project.Finding{{Tool: "gunicorn", Mode: "preload", Forks: true, File: dir + "/gunicorn.conf.py", Line: 3}}}, nil
	}
	steps := []struct {
		name      string
		advance   time.Duration
		dir       string
		fail      bool
		wantCalls int
		wantHints int
	}{
		{"first crash reads", 0, "/src/shop", false, 1, 1},
		{"the loop's next crash does not", 100 * time.Millisecond, "/src/shop", false, 1, 1},
		{"nor one a few seconds later", 5 * time.Second, "/src/shop", false, 1, 1},
		{"another project reads its own", 0, "/src/blog", false, 1, 1},
		{"past scanTTL it reads again", scanTTL, "/src/shop", false, 2, 1},
		{"a failed scan gives nothing", scanTTL, "/src/blog", true, 2, 0},
		{"and is not kept", 0, "/src/blog", false, 3, 1},
	}
	for _, s := range steps {
		clock = clock.Add(s.advance)
		fail = s.fail
		hints := a.projectHints(s.dir)
		if calls[s.dir] != s.wantCalls || len(hints) != s.wantHints {
			t.Errorf("%s: %d scans of %s and %d hints, want %d and %d", s.name, calls[s.dir], s.dir, len(hints), s.wantCalls, s.wantHints)
		}
	}
}
