package forktrace

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// hostile holds what a terminal, a notification or the menu would act on.
const hostile = "\x1b[2J\x1b]8;;https://evil.example\x07click\u202etxt.exe\u2066\n\r\u009b31m"

// TestRecordCleaned: strings from a spool record (written by any of the
// user's Python processes) reach the report, the evidence and `trace show`
// without escape sequences, newlines or bidi controls.
func TestRecordCleaned(t *testing.T) {
	rec := Record{PID: 4242, PPID: 4241, Time: 1, Python: "3.12" + hostile, Executable: "/x/python" + hostile,
		Thread: "Worker" + hostile, Argv0: "gunicorn" + hostile, Cwd: "/srv" + hostile, Threads: 3,
		Stack: []report.ForkFrame{{File: "/srv/app" + hostile + ".py", Line: 7, Function: "spawn" + hostile}}}
	b, _ := json.Marshal(&rec)
	dir := t.TempDir()
	writeSlot(t, dir, 4242, append(b, '\n'))
	got, err := Lookup(dir, 4242)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{PID: 4242}
	if !Apply(r, got) {
		t.Fatal("not applied")
	}
	texts := append([]string{got.Python, got.Executable, got.Thread, got.Argv0, got.Cwd, got.Stack[0].File, got.Stack[0].Function,
		r.ForkSite.File, r.ForkSite.Function, Sentence(r)}, r.Evidence...)
	for _, s := range texts {
		if strings.ContainsAny(s, "\x1b\x07\n\r\u009b\u202e\u2066") {
			t.Errorf("not cleaned: %q", s)
		}
	}
	if !strings.Contains(r.Evidence[0], "Worker") || got.Stack[0].Line != 7 {
		t.Errorf("cleaning lost the text: %q", r.Evidence)
	}
}
