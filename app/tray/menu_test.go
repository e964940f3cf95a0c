package tray

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/settings"
)

func findItem(items []Item, id string) Item {
	for _, it := range items {
		if it.ID == id {
			return it
		}
	}
	return Item{ID: "missing:" + id}
}

var noon = time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC)

func crash(t string, pid int, cause string, python bool) report.Report {
	return report.Report{Process: "Python", PID: pid, Time: t, Cause: cause, Python: python, ForkChild: cause != "crash", Advice: "do X", Path: fmt.Sprintf("/r/%d.ips", pid)}
}

func TestBuildMenu(t *testing.T) {
	tests := []struct {
		name  string
		state MenuState
		check map[string]func(Item) bool
	}{
		{
			name:  "quiet day",
			state: MenuState{Now: noon, CoreDir: "/x/cores"},
			check: map[string]func(Item) bool{
				"status":      func(i Item) bool { return i.Title == "No crashes today" && i.Disabled },
				"recent.none": func(i Item) bool { return !i.Hidden },
				"crash.0":     func(i Item) bool { return i.Hidden },
				"cores":       func(i Item) bool { return i.Title == "No core files in /x/cores" },
				"cores.trash": func(i Item) bool { return i.Disabled },
				"seen":        func(i Item) bool { return i.Hidden },
				"pause":       func(i Item) bool { return i.Title == "Pause Notifications" },
			},
		},
		{
			name: "fork crashes today, newest first",
			state: MenuState{Now: noon, Unseen: 2, CoreDir: "/x/cores", Crashes: []report.Report{
				crash("2026-11-24T13:05:00Z", 1, "fork-safety", true),
				crash("2026-11-24T14:02:00Z", 2, "fork-safety", true),
				crash("2026-11-23T09:00:00Z", 3, "fork-safety", true),
				{Process: "Safari", Time: "2026-11-24T14:10:00Z", Cause: "crash"}, // not listed
			}, Cores: []report.CoreFile{{Path: "/cores/core.1", Size: 2_100_000_000}, {Path: "/cores/core.2", Size: 4_200_000_000}}},
			check: map[string]func(Item) bool{
				"status":       func(i Item) bool { return i.Title == "2 Python crashes after fork() today, 3 in 7 days — last 14:02" },
				"crash.0":      func(i Item) bool { return i.Title == "14:02  Python (2) — fork-safety" && !i.Hidden },
				"crash.1":      func(i Item) bool { return strings.HasPrefix(i.Title, "13:05") },
				"crash.2":      func(i Item) bool { return strings.HasPrefix(i.Title, "Nov 23 09:00") },
				"crash.3":      func(i Item) bool { return i.Hidden },
				"crash.0.open": func(i Item) bool { return i.Parent == "crash.0" && !i.Disabled },
				"recent.none":  func(i Item) bool { return i.Hidden },
				"seen":         func(i Item) bool { return i.Title == "Mark 2 New as Seen" && !i.Hidden },
				"cores":        func(i Item) bool { return i.Title == "2 core files, 6.3 GB in /x/cores" },
				"cores.trash":  func(i Item) bool { return !i.Disabled },
			},
		},
		{
			name: "toggles show the state read back, busy ones disabled, conflicts named",
			state: MenuState{Now: noon, PausedUntil: noon.Add(time.Hour), Toggles: []ToggleView{
				{Name: "ulimit-core", Label: "Limit", State: settings.State{On: true, Conflicts: []string{"~/.zlogin:2: ulimit -c unlimited"}}},
				{Name: "coredump-off", Label: "Dumps", Busy: true},
			}},
			check: map[string]func(Item) bool{
				"toggle.ulimit-core":  func(i Item) bool { return i.Checkbox && i.Checked && !i.Disabled },
				"toggle.coredump-off": func(i Item) bool { return !i.Checked && i.Disabled && strings.Contains(i.Title, "working") },
				"conflicts":           func(i Item) bool { return !i.Hidden && strings.Contains(i.Title, "~/.zlogin:2") },
				"pause":               func(i Item) bool { return strings.HasPrefix(i.Title, "Notifications Paused Until") },
				"pause.resume":        func(i Item) bool { return !i.Hidden },
			},
		},
		{
			name: "off macOS the macOS-only toggles are greyed and say so; a translocated copy says where to move",
			state: MenuState{Now: noon, Toggles: []ToggleView{
				{Name: "coredump-off", Label: "Dumps", MacOnly: true, State: settings.State{Detail: "coredump-off is macOS only (kern.coredump is a macOS sysctl); on linux there is nothing to change"}},
				{Name: "login-item", Label: "Start Forkwatch at login", Translocated: true, State: settings.State{Detail: "Forkwatch does not start at login", Conflicts: []string{settings.ErrTranslocated.Error()}}},
			}},
			check: map[string]func(Item) bool{
				"toggle.coredump-off": func(i Item) bool {
					return i.Title == "Dumps (macOS only)" && i.Disabled && !i.Checked && strings.Contains(i.Tooltip, "macOS only")
				},
				"toggle.login-item": func(i Item) bool {
					return i.Title == "Start Forkwatch at login — Move Forkwatch to Applications first" && i.Disabled && i.Tooltip == "Forkwatch does not start at login"
				},
				"conflicts": func(i Item) bool {
					return !i.Hidden && strings.Contains(i.Tooltip, "move Forkwatch to the Applications folder")
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := BuildMenu(tc.state)
			for id, ok := range tc.check {
				if it := findItem(items, id); !ok(it) {
					t.Errorf("%s: %+v", id, it)
				}
			}
		})
	}
}

// TestMenuLayoutFixed: the same IDs in the same order whatever the state,
// since systray items cannot be removed.
func TestMenuLayoutFixed(t *testing.T) {
	ids := func(items []Item) string {
		var s []string
		for _, it := range items {
			s = append(s, it.ID)
		}
		return strings.Join(s, ",")
	}
	var many []report.Report
	for i := 0; i < 25; i++ {
		many = append(many, crash(fmt.Sprintf("2026-11-24T10:%02d:00Z", i), i+1, "fork-safety", true))
	}
	a := BuildMenu(MenuState{Now: noon})
	b := BuildMenu(MenuState{Now: noon, Crashes: many, Unseen: 25, Problem: "x", Toggles: []ToggleView{{Name: "a"}}})
	c := BuildMenu(MenuState{Now: noon, Toggles: []ToggleView{{Name: "a"}}})
	if ids(b) != ids(c) {
		t.Errorf("layout changes with state:\n%s\n%s", ids(a), ids(b))
	}
	if findItem(b, "crash.9").Hidden || !strings.Contains(findItem(b, "crash.0").Title, "(25)") {
		t.Errorf("want the 10 newest: %+v", findItem(b, "crash.0"))
	}
}

// TestMenuTextIsInert: report text with control characters and huge names
// is cleaned and bounded before it reaches a label.
func TestMenuTextIsInert(t *testing.T) {
	r := report.Report{Process: "evil\nname\x1b[31m" + strings.Repeat("A", 10000), PID: 1, Time: "2026-11-24T10:00:00Z", Cause: "crash", Python: true}
	it := findItem(BuildMenu(MenuState{Now: noon, Crashes: []report.Report{r}}), "crash.0")
	if strings.ContainsAny(it.Title, "\n\x1b") || len([]rune(it.Title)) > 80 {
		t.Errorf("label not inert: %q", it.Title)
	}
}

// TestMenuAttribution: a crash loop from one live parent is one line with a
// count that names program and project; the submenu offers the tool's fix,
// the fork site and the project folder; older dates carry their year; the
// status line counts today and the last seven days; probe results are not
// listed.
func TestMenuAttribution(t *testing.T) {
	loop := func(ts string, pid int) report.Report {
		r := crash(ts, pid, "fork-safety", true)
		r.Group, r.Framework, r.Project = "parent:100:1764000000", "gunicorn", "/home/u/src/shop"
		r.ParentCommand = "/home/u/src/shop/.venv/bin/python /home/u/src/shop/.venv/bin/gunicorn app:app"
		r.Fix = "Start gunicorn without --preload"
		r.ForkSite = &report.ForkSite{File: "/home/u/src/shop/app.py", Line: 42, Function: "spawn_worker"}
		r.ForkVia = "gunicorn.arbiter"
		return r
	}
	var crashes []report.Report
	for i := 0; i < 37; i++ {
		crashes = append(crashes, loop(fmt.Sprintf("2026-11-24T13:%02d:00Z", i), 1000+i))
	}
	old := crash("2025-03-01T09:00:00Z", 7, "crash", true)
	probe := crash("2026-11-24T14:20:00Z", 8, "fork-safety", true)
	probe.Probe = true
	crashes = append(crashes, old, probe, crash("2026-11-20T10:00:00Z", 9, "fork-safety", true))
	b := BuildMenu(MenuState{Now: noon, Crashes: crashes})
	tests := map[string]func(Item) bool{
		"status": func(i Item) bool {
			return i.Title == "37 Python crashes after fork() today, 38 in 7 days — last 13:36"
		},
		"crash.0":         func(i Item) bool { return i.Title == "13:36  gunicorn (shop) — 37× fork-safety" },
		"crash.0.advice":  func(i Item) bool { return i.Title == "Start gunicorn without --preload" },
		"crash.0.copy":    func(i Item) bool { return i.Title == "Copy Fix" && !i.Disabled },
		"crash.0.project": func(i Item) bool { return !i.Hidden },
		"crash.0.site": func(i Item) bool {
			return !i.Hidden && strings.Contains(i.Title, "app.py:42 in spawn_worker() via gunicorn.arbiter")
		},
		"crash.1":         func(i Item) bool { return strings.HasPrefix(i.Title, "Nov 20 10:00  Python (9)") },
		"crash.2":         func(i Item) bool { return strings.HasPrefix(i.Title, "Mar 1 2025 09:00  Python (7)") },
		"crash.2.project": func(i Item) bool { return i.Hidden },
		"crash.3":         func(i Item) bool { return i.Hidden },
	}
	for id, ok := range tests {
		if it := findItem(b, id); !ok(it) {
			t.Errorf("%s: %+v", id, it)
		}
	}
}
