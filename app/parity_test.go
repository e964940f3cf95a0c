package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/history"
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

// TestHistoryJSONCarriesText: `history --all` and `history --json --all`
// on the same database of the real sample reports: each row's program,
// pid, runtime, cause and report path are in the JSON line of that crash.
func TestHistoryJSONCarriesText(t *testing.T) {
	dir := filepath.Join("..", "monitor", "report", "testdata", "reports")
	entries, _ := os.ReadDir(dir)
	db := filepath.Join(t.TempDir(), "history.db")
	d, err := history.Open(db, history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, e := range entries {
		if r, _ := report.ReadFile(filepath.Join(dir, e.Name())); r != nil {
			d.MarkSeen(r, now)
		}
	}
	d.Close()
	text, _, code := runHistoryArgs(t, "--db", db, "--all")
	js, _, code2 := runHistoryArgs(t, "--db", db, "--all", "--json")
	if code != 0 || code2 != 0 {
		t.Fatalf("exit %d / %d", code, code2)
	}
	rows := strings.Split(strings.TrimSpace(text), "\n")[1:]
	lines := strings.Split(strings.TrimSpace(js), "\n")
	if len(rows) != len(lines) || len(rows) < 30 {
		t.Fatalf("%d rows, %d JSON lines", len(rows), len(lines))
	}
	for i, row := range rows {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatal(err)
		}
		if m["schema"] != float64(1) {
			t.Errorf("line %d has no schema: %s", i, lines[i])
		}
		proc := fmt.Sprint(orEmpty(m["process"]))
		if pid, ok := m["pid"]; ok {
			proc += fmt.Sprintf(" (pid %v)", pid)
		}
		path, _ := m["path"].(string)
		for _, want := range []string{fmt.Sprint(m["runtime"]), fmt.Sprint(m["cause"]), path} {
			if !strings.Contains(row, want) {
				t.Errorf("row %d %q: JSON value %q not in it", i, row, want)
			}
		}
		if p := strings.TrimSpace(string([]rune(row)[colTime+2 : colTime+2+colProgram])); !strings.HasSuffix(p, "…") && p != proc && !(p == "–" && proc == "") {
			t.Errorf("row %d shows program %q, the JSON %q", i, p, proc)
		}
		if m["time"] == nil && m["seen"] == nil {
			t.Errorf("row %d shows a time the JSON has not", i)
		}
	}
}

// TestStatusJSONCarriesText: `status` and `status --json` on the same
// home: each toggle's check mark, detail, conflicts and error, and the
// history line, are in the JSON; a toggle this system lacks says so with
// available false and its reason.
func TestStatusJSONCarriesText(t *testing.T) {
	env := testEnv(t)
	text, _, _ := runSplit(t, env, "status")
	js, _, _ := runSplit(t, env, "status", "--json")
	var st map[string]map[string]any
	if err := unmarshalStatus([]byte(js), &st); err != nil {
		t.Fatal(err)
	}
	var name string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "[x] ") || strings.HasPrefix(l, "[ ] "):
			name = strings.Fields(l)[2]
			if m := st[name]; m == nil || m["on"] != strings.HasPrefix(l, "[x]") {
				t.Errorf("%s: text %q, JSON %v", name, l, st[name])
			}
		case strings.HasPrefix(l, "      conflict: "):
			if !strings.Contains(fmt.Sprint(st[name]["conflicts"]), strings.TrimPrefix(l, "      conflict: ")) {
				t.Errorf("%s: conflict %q not in the JSON", name, l)
			}
		case strings.HasPrefix(l, "      error: "):
			if st[name]["error"] != strings.TrimPrefix(l, "      error: ") {
				t.Errorf("%s: error %q not in the JSON", name, l)
			}
		case strings.HasPrefix(l, "      "):
			if st[name]["detail"] != strings.TrimSpace(l) && !strings.Contains(l, "profile") {
				t.Errorf("%s: detail %q, JSON %v", name, l, st[name]["detail"])
			}
		case strings.HasPrefix(l, "history: "):
			if st["history"] == nil {
				t.Errorf("the text's %q is not in the JSON", l)
			}
		default:
			t.Errorf("a status line the parity test does not know: %q", l)
		}
	}
	if runtime.GOOS != "darwin" {
		if m := st["coredump-off"]; m["available"] != false || !strings.Contains(fmt.Sprint(m["reason"]), "macOS only") {
			t.Errorf("coredump-off off macOS: %v", m)
		}
	}
}
