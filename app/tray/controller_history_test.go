package tray

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
)

// TestControllerHistoryAndTracing: with a history database, a verified
// toggle change is recorded, the status line counts from the history,
// Crash History… writes the page and opens it; the Fork Tracing submenu
// lists the venv of a listed crash, and a click installs the tracer, with
// the check mark read back from site-packages.
func TestControllerHistoryAndTracing(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3")
	}
	env := fakeCommands(t, testEnv(t))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("PATH", os.Getenv("PATH")+":"+filepath.Dir(py))
	home := envValue(env, "HOME")
	support := filepath.Join(home, "support")
	os.MkdirAll(support, 0o700)
	db, err := history.Open(filepath.Join(support, "history.db"), history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	venv := filepath.Join(home, "src", "shop", ".venv")
	if out, err := exec.Command(py, "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Skipf("python3 -m venv: %v %s", err, out)
	}
	crashes := seedCrashLoop(t, db, venv)
	tracer := forktrace.New(support, home)
	tracer.Places = nil

	senv := settings.Env{Home: home, GOOS: "darwin", UID: 501, Exe: "/Applications/Forkwatch.app/Contents/MacOS/forkwatch", PromptTimeout: 5 * time.Second, SupportDir: support}
	n := &fakeNotifier{}
	desk := &fakeDesk{}
	c := NewController(ControllerConfig{Env: senv, Desktop: desk, Notifier: n, Alerter: notify.NewAlerter(n, time.Minute, nil),
		SupportDir: support, Recent: crashes[:1], History: db, Tracer: tracer})
	ui := &fakeUI{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, ui); close(done) }()
	defer func() { cancel(); <-done }()

	// The menu lists one crash, the history knows three.
	eventually(t, "counts from the history", func() bool { return strings.HasPrefix(ui.item("status").Title, "3 Python crashes") })
	// One crash of the loop is in memory; the history knows all three.
	eventually(t, "loop count from the history", func() bool { return strings.Contains(ui.item("crash.0").Title, "3× fork-safety") })

	eventually(t, "toggles read", func() bool { return !ui.item("toggle.fork-safety-off").Disabled })
	c.Clicks <- "toggle.fork-safety-off"
	eventually(t, "toggle recorded", func() bool {
		tg, _ := db.Toggles(ctx, time.Time{})
		return len(tg) == 1 && tg[0].Name == "fork-safety-off" && tg[0].On
	})

	c.Clicks <- "history"
	eventually(t, "page opened", func() bool { return strings.Contains(desk.log(), "doc "+filepath.Join(support, "history.html")) })
	if b, err := os.ReadFile(filepath.Join(support, "history.html")); err != nil || !strings.Contains(string(b), "/r/700.ips") {
		t.Errorf("history page lacks the seeded report: %v", err)
	}

	checkTracingClicks(t, c, ui, venv)
}

// seedCrashLoop records three crashes of one crash loop in venv.
func seedCrashLoop(t *testing.T, db *history.DB, venv string) []report.Report {
	now := time.Now()
	crashes := []report.Report{}
	for i := 0; i < 3; i++ {
		r := crash(now.Add(-time.Duration(i)*time.Minute).UTC().Format(time.RFC3339), 700+i, "fork-safety", true)
		r.ID, r.Venv, r.Group = "incident:ctl-"+string(rune('a'+i)), venv, "parent:99:1764000000"
		db.MarkSeen(&r, now)
		crashes = append(crashes, r)
	}
	if err := db.Save(); err != nil {
		t.Fatal(err)
	}
	return crashes
}

// checkTracingClicks: the venv is listed unticked; a click installs the
// tracer (the tick read back), a second removes it.
func checkTracingClicks(t *testing.T, c *Controller, ui *fakeUI, venv string) {
	t.Helper()
	eventually(t, "venv listed", func() bool {
		return strings.Contains(ui.item("trace.0").Title, "shop/.venv") && !ui.item("trace.0").Hidden
	})
	if ui.item("trace.0").Checked {
		t.Fatal("tracing shown on before it was enabled")
	}
	c.Clicks <- "trace.0"
	eventually(t, "tracing on, read back", func() bool { return ui.item("trace.0").Checked && !ui.item("trace.0").Disabled })
	pth, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages", forktrace.PthName))
	if len(pth) != 1 {
		t.Errorf("no .pth in the venv: %v", pth)
	}
	c.Clicks <- "trace.0"
	eventually(t, "tracing off, read back", func() bool { return !ui.item("trace.0").Checked && !ui.item("trace.0").Disabled })
	if pth, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages", forktrace.PthName)); len(pth) != 0 {
		t.Errorf(".pth left after disable: %v", pth)
	}
}
