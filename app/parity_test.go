package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// procPID reads "Python (pid 42374)" back into its parts.
var procPID = regexp.MustCompile(`^(.*?)(?: \(pid (\d+)\))?$`)

// checkProc: the JSON's process and pid fields hold what the text shows.
func checkProc(t *testing.T, what, text string, m map[string]any, proc, pid string) {
	t.Helper()
	p := procPID.FindStringSubmatch(text)
	if p[1] != "–" && m[proc] != p[1] {
		t.Errorf("%s: text shows %s %q, JSON %s is %v", what, proc, p[1], proc, m[proc])
	}
	if p[2] != "" && fmt.Sprint(m[pid]) != p[2] {
		t.Errorf("%s: text shows %s %s, JSON %s is %v", what, pid, p[2], pid, m[pid])
	}
}

// TestInspectJSONCarriesText: for every sample report, each field the text
// of `inspect` shows is in its JSON line, with the same value.
func TestInspectJSONCarriesText(t *testing.T) {
	dir := filepath.Join("..", "monitor", "report", "testdata", "reports")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		r, err := report.ReadFile(p)
		if r == nil {
			t.Logf("%s: %v", e.Name(), err)
			continue
		}
		text := describe(p, r)
		b, _ := json.Marshal(r)
		var m map[string]any
		json.Unmarshal(b, &m)
		if m["cause"] == "" || m["cause"] == nil {
			t.Errorf("%s: the headline %q has no cause in the JSON", e.Name(), wordingLine(text, 1))
		}
		evidence := fmt.Sprint(m["evidence"])
		for _, l := range strings.Split(text, "\n")[2:] {
			if strings.HasPrefix(l, "  - ") {
				if !strings.Contains(evidence, strings.TrimPrefix(l, "  - ")) {
					t.Errorf("%s: evidence %q not in the JSON", e.Name(), l)
				}
				continue
			}
			k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "process":
				checkProc(t, e.Name(), v, m, "process", "pid")
			case "parent":
				checkProc(t, e.Name(), v, m, "parent_process", "parent_pid")
			case "path", "time", "macOS", "trigger", "advice":
				key := map[string]string{"path": "exe_path", "macOS": "os_version"}[k]
				if key == "" {
					key = k
				}
				if m[key] != v {
					t.Errorf("%s: text %s %q, JSON %s %v", e.Name(), k, v, key, m[key])
				}
			case "signal":
				got := strings.TrimSpace(fmt.Sprint(orEmpty(m["exception"])) + " " + fmt.Sprint(orEmpty(m["signal"])))
				if got != v && v != "not enough of the report to tell" {
					t.Errorf("%s: text signal %q, JSON %q", e.Name(), v, got)
				}
			case "note":
				if m["partial"] != true {
					t.Errorf("%s: the text says it stops early, the JSON has no partial", e.Name())
				}
			default:
				t.Errorf("%s: a text field %q the parity test does not know", e.Name(), k)
			}
		}
	}
}

// TestWatchJSONCarriesText: the lines `watch` prints for a crash (the
// process, who it came from and how it was started, the fork site, the
// fix, the core file) are in its JSON event.
func TestWatchJSONCarriesText(t *testing.T) {
	r, _ := report.ReadFile(sample("python39-rq-objc-fork-django-rq-574.ips"))
	r.Framework, r.Project, r.ParentCommand = "rq", "/Users/a/src/shop", "/Users/a/src/shop/.venv/bin/python -m rq worker"
	r.Fix = "rq: use the spawn worker (rq worker -w rq.worker.SpawnWorker)"
	r.ForkSite, r.ForkVia = &report.ForkFrame{File: filepath.Join(appinfo.Home(), "src/shop/tasks.py"), Line: 42, Function: "run_jobs"}, "rq.worker"
	ev := monitor.Event{Kind: monitor.KindCrash, Report: r, Core: &report.CoreFile{Path: "/cores/core.42", Size: 3 << 30, PID: r.PID}}
	text := eventLine(ev)
	b, _ := json.Marshal(ev)
	js := string(b)
	var m map[string]any
	json.Unmarshal(b, &m)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) < 4 {
		t.Fatalf("watch printed:\n%s", text)
	}
	for _, want := range []string{r.Process, r.ParentCommand, r.Fix, r.ForkVia, "run_jobs", "tasks.py", `"line":42`, `"size":3221225472`, "rq", "shop"} {
		if !strings.Contains(text, strings.Trim(want, `"`)) && !strings.Contains(want, ":") {
			t.Errorf("the test's value %q is not in the text:\n%s", want, text)
		}
		if !strings.Contains(js, want) {
			t.Errorf("the text shows %q, the JSON does not have it: %s", want, js)
		}
	}
	if m["kind"] != "crash" || m["cause"] == nil {
		t.Errorf("JSON kind/cause: %v", m)
	}
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func wordingLine(s string, i int) string { return strings.Split(s, "\n")[i] }
