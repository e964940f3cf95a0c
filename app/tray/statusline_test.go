package tray

import (
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestStatusLineByRuntime: the menu's count line counts deaths after fork()
// of every runtime, names the runtime when one has them all, and breaks
// them down when not; the history's counts by runtime win when it knows
// more.
func TestStatusLineByRuntime(t *testing.T) {
	ruby := func(at string, pid int) report.Report {
		return rtCrash(at, pid, "ruby", report.RuntimeRuby, report.CauseForkSafety)
	}
	tests := []struct {
		name  string
		state MenuState
		want  string
	}{
		{"one ruby", MenuState{Now: noon, Crashes: []report.Report{ruby("2026-11-24T14:02:00Z", 1)}}, "1 Ruby crash after fork() — last 14:02"},
		{"ruby and python", MenuState{Now: noon, Crashes: []report.Report{
			ruby("2026-11-24T14:02:00Z", 1), ruby("2026-11-24T13:02:00Z", 2),
			rtCrash("2026-11-24T12:00:00Z", 3, "Python", report.RuntimePython, report.CauseForkSafety),
		}}, "3 crashes after fork() today (2 Ruby, 1 Python) — last 14:02"},
		{"other program and a plain python crash", MenuState{Now: noon, Crashes: []report.Report{
			rtCrash("2026-11-24T14:02:00Z", 1, "sentry-cli", report.RuntimeOther, report.CauseForkSafety),
			rtCrash("2026-11-24T12:00:00Z", 3, "Python", report.RuntimePython, report.CauseCrash),
			rtCrash("2026-11-24T12:30:00Z", 4, "Safari", report.RuntimeOther, report.CauseCrash), // not counted
		}}, "2 crashes today (1 after fork(); 1 Python, 1 other) — last 14:02"},
		{"history knows more", MenuState{Now: noon, Crashes: []report.Report{ruby("2026-11-24T14:02:00Z", 1)},
			Counts: &CrashCounts{Today: 40, Week: 41, Runtimes: map[string]int{"ruby": 37, "php": 3}}},
			"40 crashes today (37 Ruby, 3 PHP), 41 in 7 days — last 14:02"},
		// An excerpt gives no time: the history counts it today (when it
		// was recorded), but no crash has a time to say "last" with; a zero
		// time read "last 00:00" (seen in the tray under xdesk).
		{"history counts an untimed crash", MenuState{Now: noon, Crashes: []report.Report{rtCrash("", 1, "Python", report.RuntimePython, report.CauseForkSafety)},
			Counts: &CrashCounts{Today: 1, Week: 1, Runtimes: map[string]int{"python": 1}}},
			"1 Python crash today"},
	}
	for _, tt := range tests {
		if got := statusLine(tt.state); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	// The menu lists the Ruby crash.
	items := BuildMenu(MenuState{Now: noon, Crashes: []report.Report{ruby("2026-11-24T14:02:00Z", 9)}})
	for _, it := range items {
		if it.ID == "crash.0" && (it.Hidden || !strings.Contains(it.Title, "ruby")) {
			t.Errorf("crash.0 = %+v", it)
		}
	}
}
