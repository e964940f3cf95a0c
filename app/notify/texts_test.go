package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// rtCrash is a crash of a runtime at a time, a death after fork() unless
// cause says otherwise.
func rtCrash(at string, pid int, process, rt, cause string) report.Report {
	return report.Report{Process: process, PID: pid, Time: at, Cause: cause, Runtime: rt, Python: rt == report.RuntimePython,
		ForkChild: cause != report.CauseCrash, ObjCForkSafety: cause == report.CauseForkSafety, ParentProcess: process, ParentPID: pid - 1,
		Advice: "exec after fork()", Path: "/r/x.ips"}
}

// TestAlertRule: one rule (report.Notable) for notifications: any death
// after fork() of any runtime, and other Python crashes; not a plain crash
// of another program, not a probe, not history.
func TestAlertRule(t *testing.T) {
	tests := []struct {
		name  string
		r     report.Report
		alert bool
		title string
	}{
		{"ruby objc", rtCrash("2026-11-24T14:02:00Z", 95102, "ruby", report.RuntimeRuby, report.CauseForkSafety), true, "Ruby crashed after fork()"},
		{"php-fpm fork child", rtCrash("2026-11-24T14:02:00Z", 7, "php-fpm", report.RuntimePHP, report.CauseForkChild), true, "PHP crashed after fork()"},
		{"perl cf", rtCrash("2026-11-24T14:02:00Z", 7, "perl", report.RuntimePerl, report.CauseCFFork), true, "Perl crashed after fork()"},
		{"sentry-cli objc", rtCrash("2026-11-24T14:02:00Z", 7, "sentry-cli", report.RuntimeOther, report.CauseForkSafety), true, "sentry-cli crashed after fork()"},
		{"python objc", rtCrash("2026-11-24T14:02:00Z", 7, "Python", report.RuntimePython, report.CauseForkSafety), true, "Python crashed after fork()"},
		{"python fork child", rtCrash("2026-11-24T14:02:00Z", 7, "Python", report.RuntimePython, report.CauseForkChild), true, "Python crashed in a fork child"},
		{"python plain", rtCrash("2026-11-24T14:02:00Z", 7, "Python", report.RuntimePython, report.CauseCrash), true, "Python crashed"},
		{"python recorded before the runtime field", func() report.Report {
			r := rtCrash("2026-11-24T14:02:00Z", 7, "Python", report.RuntimePython, report.CauseForkSafety)
			r.Runtime = ""
			return r
		}(), true, "Python crashed after fork()"},
		{"ruby plain crash", rtCrash("2026-11-24T14:02:00Z", 7, "ruby", report.RuntimeRuby, report.CauseCrash), false, ""},
		{"app segv", rtCrash("2026-11-24T14:02:00Z", 7, "Safari", report.RuntimeOther, report.CauseCrash), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			title, body, _, ok := alertFor(monitor.Event{Kind: monitor.KindCrash, Report: &r})
			if ok != tt.alert || title != tt.title {
				t.Fatalf("alert %v %q, want %v %q", ok, title, tt.alert, tt.title)
			}
			if ok && !strings.Contains(body, "exec after fork()") {
				t.Errorf("body lacks the advice: %q", body)
			}
			if ok && r.Runtime != report.RuntimePython && r.Runtime != "" && strings.Contains(title+body, "Python") {
				t.Errorf("a %s crash names Python: %q / %q", r.Runtime, title, body)
			}
			r.Probe = true
			if _, _, _, ok := alertFor(monitor.Event{Kind: monitor.KindCrash, Report: &r}); ok {
				t.Error("a probe result alerts")
			}
		})
	}
	// With attribution, the title leads with the program; a plain crash
	// names the runtime.
	r := rtCrash("2026-11-24T14:02:00Z", 7, "ruby", report.RuntimeRuby, report.CauseForkSafety)
	r.ParentCommand, r.Framework = "ruby /home/u/shop/bin/puma -C config/puma.rb", ""
	if title, _ := CrashMessage(&r, nil); !strings.HasSuffix(title, ": killed after fork()") || strings.Contains(title, "Python") {
		t.Errorf("attributed ruby: %q", title)
	}
}

// TestSummaryNamesPythonOnlyWhenAllAre: the crash-loop summary names
// Python only when every held alert was a Python crash.
func TestSummaryNamesPythonOnlyWhenAllAre(t *testing.T) {
	if title, _ := summaryMessage(3, map[string]int{"Python": 3}, true); title != "3 more Python crashes from Python" {
		t.Errorf("python: %q", title)
	}
	if title, _ := summaryMessage(1, map[string]int{"ruby": 1}, false); title != "1 more crash from ruby" {
		t.Errorf("ruby: %q", title)
	}
	n := &fakeNotifier{}
	a := NewAlerter(n, 200*time.Millisecond, nil)
	for i, rt := range []string{report.RuntimePython, report.RuntimeRuby, report.RuntimePython} {
		r := rtCrash("2026-11-24T14:02:00Z", 100+i, "x", rt, report.CauseForkSafety)
		a.Event(monitor.Event{Kind: monitor.KindCrash, Report: &r})
	}
	eventually(t, "two notifications", func() bool { return strings.Count(n.All(), "\n") == 1 })
	got := strings.Split(n.All(), "\n")
	if len(got) != 2 || !strings.HasPrefix(got[0], "Python crashed after fork() |") || !strings.HasPrefix(got[1], "2 more crashes from x |") {
		t.Errorf("notifications %q", got)
	}
}

// TestRiskyForkSummary: warnings held back in a window are summarised as
// forks at risk, never as crashes; mixed with crashes they count as alerts
// of their source.
func TestRiskyForkSummary(t *testing.T) {
	title, body := summaryMessage(2, map[string]int{riskyFrom: 2}, false)
	if title != "2 more forks at risk" || strings.Contains(title+body, "crash") {
		t.Errorf("summary: %q %q", title, body)
	}
	w := monitor.RiskyFork{Program: "gunicorn", Site: "app.py:12", Reason: "exited without exec", Fix: "Do not preload.", Threads: []string{"MainThread", "poller"}}
	title, body = RiskyForkMessage(w)
	if title != "At risk: gunicorn" || !strings.Contains(body, "at app.py:12 and the child exited without exec.") || !strings.Contains(body, "Threads: MainThread, poller.") || !strings.HasSuffix(body, "Fix: Do not preload.") {
		t.Errorf("message: %q %q", title, body)
	}
}

// TestCrashWhoNoPIDClaim: an excerpt without a pid gives no "pid 0" (a
// claim the report does not make; seen in a notification under xdesk), and
// a parent without a pid is named alone.
func TestCrashWhoNoPIDClaim(t *testing.T) {
	cases := []struct {
		r    report.Report
		want string
	}{
		{report.Report{Process: "Python", PID: 4242, ParentProcess: "gunicorn", ParentPID: 4200}, "Python (pid 4242, parent gunicorn 4200)"},
		{report.Report{Process: "Python", ParentProcess: "Python", ParentPID: 42374}, "Python (parent Python 42374)"},
		{report.Report{Process: "Python", ParentProcess: "launchd"}, "Python (parent launchd)"},
		{report.Report{Process: "THKeyVis"}, "THKeyVis"},
		{report.Report{}, "–"},
	}
	for _, c := range cases {
		if got := crashWho(&c.r); got != c.want {
			t.Errorf("crashWho(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}
