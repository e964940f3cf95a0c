package notify

import (
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestCrashMessageAttributed: the notification leads with program and
// project and carries the tool's fix; without attribution it is as before.
func TestCrashMessageAttributed(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	r := crash("2026-11-24T13:00:00Z", 4242, "fork-safety", true)
	r.Framework, r.Project, r.Fix = "celery", "/home/u/src/shop", "Start the worker with --pool=solo or -P threads."
	r.ParentProcess, r.ParentCommand = "python3", "/home/u/src/shop/.venv/bin/python3 -m celery -A shop worker"
	title, body := CrashMessage(&r, nil)
	if title != "celery worker in ~/src/shop: killed after fork()" || !strings.Contains(body, "pid 4242") || !strings.HasSuffix(body, r.Fix) {
		t.Errorf("attributed: %q / %q", title, body)
	}
	plain := crash("2026-11-24T13:00:00Z", 4242, "fork-safety", true)
	if title, body := CrashMessage(&plain, nil); title != "Python crashed after fork()" || !strings.HasPrefix(body, "Python (pid 4242)") {
		t.Errorf("plain: %q / %q", title, body)
	}
	// The program comes from the live parent's command line.
	for cmd, want := range map[string]string{
		"/x/.venv/bin/python3 -m celery -A shop worker": "celery worker",
		"/x/.venv/bin/python /x/.venv/bin/gunicorn a:b": "gunicorn",
		"": "",
	} {
		r := report.Report{ParentProcess: "python3", ParentCommand: cmd}
		if got := programName(r); got != want {
			t.Errorf("programName(%q) = %q, want %q", cmd, got, want)
		}
	}
}
