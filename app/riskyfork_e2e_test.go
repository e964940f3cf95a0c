package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/app/tray"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
)

// riskyScript is the program the risky-fork test runs, and the line of
// each of its fork sites ("# SITE:name").
func riskyScript(t *testing.T) (path string, lines map[string]int) {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "riskyfork", "forks.py"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines = map[string]int{}
	for i, l := range strings.Split(string(b), "\n") {
		if _, name, ok := strings.Cut(l, "# SITE:"); ok {
			lines[strings.TrimSpace(name)] = i + 1
		}
	}
	return p, lines
}

// countingNotifier counts what the Alerter sends.
type countingNotifier struct {
	mu   sync.Mutex
	sent []string
}

func (n *countingNotifier) Notify(title, body string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, title+" | "+body)
	return nil
}

func (n *countingNotifier) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.sent...)
}

// menuUI keeps the controller's last menu.
type menuUI struct {
	mu    sync.Mutex
	items []tray.Item
}

func (u *menuUI) Update(items []tray.Item) { u.mu.Lock(); u.items = items; u.mu.Unlock() }
func (u *menuUI) SetAlert(bool)            {}
func (u *menuUI) Quit()                    {}
func (u *menuUI) riskLines() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for _, it := range u.items {
		if strings.HasPrefix(it.ID, "risk.") && !strings.HasSuffix(it.ID, ".fix") && !it.Hidden {
			out = append(out, it.Title)
		}
	}
	return out
}

// TestRiskyForkWarningEndToEnd (issue 30): in a traced venv, a real
// program starts a thread and forks 100 times without exec. Within one
// second of its first fork exactly one warning appears: a `watch --json`
// event of kind risky_fork, one line in the menu model (a controller fed by
// the service's risk watcher, as the app wires it) with one notification,
// and one history row, each naming the file:line and the fix. The same
// program without the thread, and one whose children exec, give none: a
// control fork at another line is the next (and only other) warning.
func TestRiskyForkWarningEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a traced python3")
	}
	e := newTraceEnv(t)
	venv := traceVenv(t, t.TempDir())
	if out, errOut, code := e.run("trace", "enable", venv); code != 0 {
		t.Fatalf("enable: %s%s", out, errOut)
	}
	script, sites := riskyScript(t)
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	// No --state: the warnings go to the history database in HOME.
	p := startForkwatch(t, e.env, "watch", "--json", "--reports-dir", s.reports, "--cores-dir", s.cores)
	p.ready()
	p.waitLog("watching the record file for risky forks", 1)

	// The app's side, in this process: the controller's menu model and the
	// Alerter, fed by the risk watcher on the same spool.
	menu, notes := startRiskMenu(t, e)

	run := func(mode string) time.Time { return runRiskyScript(t, venv, script, mode) }
	first := run("threaded")
	ev := p.event(wait)
	latency := time.Since(first)
	t.Logf("warning %v after the first fork", latency.Round(time.Millisecond))
	if latency > time.Second {
		t.Errorf("the warning came %v after the first fork, not within 1s", latency)
	}
	wantSite := fmt.Sprintf("forks.py:%d", sites["threaded"])
	if ev["kind"] != "risky_fork" || ev["site"] != wantSite || ev["function"] != "fork_exit" || !strings.Contains(ev["fix"].(string), "exec") {
		t.Fatalf("event: %v", ev)
	}
	if names, _ := ev["thread_names"].([]any); len(names) != 2 || names[1] != "poller" {
		t.Errorf("thread names: %v", ev["thread_names"])
	}
	if !strings.Contains(ev["meaning"].(string), "macOS") || !strings.Contains(ev["meaning"].(string), "every system") {
		t.Errorf("meaning: %v", ev["meaning"])
	}
	eventually(t, "the warning in the menu model", func() bool { return len(menu.riskLines()) == 1 })
	wantLine := "At risk: forks.py in " + filepath.Dir(script) + " forks from a threaded process at " + wantSite
	if got := menu.riskLines()[0]; !strings.HasPrefix(wantLine, strings.TrimSuffix(got, "…")) {
		t.Errorf("menu line %q, want %q", got, wantLine)
	}

	// No warning for the unthreaded program, nor for forks followed by
	// exec: the next event is the control's, at its own line.
	run("plain")
	run("exec")
	run("control")
	ev = p.event(wait)
	if ev["kind"] != "risky_fork" || ev["site"] != fmt.Sprintf("forks.py:%d", sites["control"]) {
		t.Fatalf("after the plain and exec runs, the next event is %v, want the control's", ev)
	}
	eventually(t, "the control in the menu model", func() bool { return len(menu.riskLines()) == 2 })
	// One notification: the control's warning, in the same minute, waits
	// for the Alerter's summary.
	if n := notes.all(); len(n) != 1 || !strings.Contains(n[0], "At risk: forks.py") || !strings.Contains(n[0], wantSite) || !strings.Contains(n[0], "Threads: MainThread, poller") {
		t.Errorf("notifications: %q", n)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("watch exit %d; stderr:\n%s", code, p.stderr())
	}
	for l, ok := p.next(0); ok; l, ok = p.next(0) {
		t.Errorf("more output: %s", l)
	}
	checkRiskyHistory(t, e, wantSite, fmt.Sprintf("forks.py:%d", sites["control"]))
}

// checkRiskyHistory: the history holds one row per warning, in order.
func checkRiskyHistory(t *testing.T, e *traceEnv, sites ...string) {
	t.Helper()
	db, err := history.Open(filepath.Join(e.home, ".config", "forkwatch", "history.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.RiskyForks()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(sites) {
		t.Fatalf("history rows: %+v, want %d", rows, len(sites))
	}
	for i, r := range rows {
		if r.Site != sites[i] || r.Fix == "" || r.Reason == "" {
			t.Errorf("history row %d: %+v, want site %s", i, r, sites[i])
		}
	}
}

// runRiskyScript runs forks.py in mode with the venv's python and returns
// the time of its first fork.
func runRiskyScript(t *testing.T, venv, script, mode string) time.Time {
	t.Helper()
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), script, mode)
	cmd.Dir = filepath.Dir(script)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("forks.py %s: %v %s", mode, err, out)
	}
	var res struct {
		FirstFork float64 `json:"first_fork"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("forks.py %s printed %q", mode, out)
	}
	return time.Unix(0, int64(res.FirstFork*1e9))
}

// startRiskMenu runs a tray controller fed by a risk watcher on e's
// spool, as the app wires them, and returns its menu and its notifier.
func startRiskMenu(t *testing.T, e *traceEnv) (*menuUI, *countingNotifier) {
	t.Helper()
	n := &countingNotifier{}
	senv := settings.Env{Home: e.home, GOOS: "linux", UID: os.Getuid(), PromptTimeout: 5 * time.Second, SupportDir: filepath.Join(e.home, "support")}
	ctrl := tray.NewController(tray.ControllerConfig{Env: senv, Notifier: n, Alerter: notify.NewAlerter(n, time.Minute, nil), SupportDir: senv.SupportDir})
	ui := &menuUI{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ctrl.Run(ctx, ui) }()
	ready := make(chan struct{})
	rw := &service.RiskWatcher{Spool: e.spool(), OnReady: func() { close(ready) }}
	go func() {
		defer wg.Done()
		rw.Run(ctx, func(ev monitor.Event) {
			select {
			case ctrl.Events <- ev:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	select {
	case <-ready:
	case <-time.After(wait):
		t.Fatal("the in-process risk watcher did not start")
	}
	return ui, n
}

// TestRiskyForkWatchLine: the terminal form of a warning names the
// program, project and site, the reason, whose risk it is, the threads and
// the fix.
func TestRiskyForkWatchLine(t *testing.T) {
	w := &monitor.RiskyFork{Program: "gunicorn", Project: "/srv/shop", Site: "app.py:12", Reason: "exited without exec",
		Meaning: monitor.RiskyForkMeaning, Threads: []string{"MainThread", "poller"}, Fix: "Do not preload the app."}
	got := eventLine(monitor.Event{Kind: monitor.KindRiskyFork, Risk: w})
	for _, want := range []string{" at risk: gunicorn in /srv/shop forks from a threaded process at app.py:12\n", "exited without exec; On macOS", "every system", "threads: MainThread, poller\n", "fix: Do not preload the app.\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("watch line lacks %q:\n%s", want, got)
		}
	}
}
