package tray

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"
)

// TestHostileOpen: Open Project Folder and Open Report with what a hostile
// report can imply (a URL, an option, a bundle, a path outside the watched
// folder, a link) open nothing: the fake `open` on PATH records no call.
// A real project folder is revealed (open -R), a real report opened.
func TestHostileOpen(t *testing.T) {
	env := fakeCommands(t, testEnv(t))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	home := envValue(env, "HOME")
	reports := filepath.Join(home, "DiagnosticReports")
	os.MkdirAll(reports, 0o755)
	bin := filepath.SplitList(os.Getenv("PATH"))[0]
	log := recorder(t, bin, "open")
	senv := settings.Env{Home: home, GOOS: "darwin", UID: 501, PromptTimeout: 5 * time.Second, SupportDir: filepath.Join(home, "support")}
	// The real macOS desktop (open(1) found on PATH), behind the guard
	// NewController puts in front of every Desktop.
	c := NewController(ControllerConfig{Env: senv, Desktop: desktop.New("darwin"), Notifier: &fakeNotifier{},
		SupportDir: senv.SupportDir, ReportDirs: []string{reports}})
	ui := &fakeUI{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, ui); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	dir := t.TempDir()
	evilApp := filepath.Join(dir, "Users", "Shared", "Evil.app")
	os.MkdirAll(filepath.Join(evilApp, "Contents", "MacOS"), 0o755)
	outside := filepath.Join(dir, "outside.ips")
	os.WriteFile(outside, []byte("{}"), 0o644)
	link := filepath.Join(reports, "Python-link.ips")
	os.Symlink(outside, link)
	t.Cleanup(func() { os.Remove(link) })
	hostile := []struct{ project, path string }{
		{"https:/evil.example", "https:/evil.example/x.ips"},
		{"javascript:alert(document.cookie)", "javascript:alert(1)"},
		{"-a/Applications/Calculator.app", "-a/Applications/Calculator.app"},
		{evilApp, outside},
		{"/Users/Shared/Evil.app", link},
		{"relative/project", "relative.ips"},
	}
	for i, h := range hostile {
		c.Events <- monitor.Event{Kind: monitor.KindCrash, Report: &report.Report{
			ID: fmt.Sprintf("hostile-%d", i), Path: h.path, Process: "Python", PID: 70000 + i, Project: h.project,
			Time: time.Now().Format(time.RFC3339), Python: true, Cause: report.CauseForkSafety}}
	}
	eventually(t, "listed", func() bool { return ui.item(fmt.Sprintf("crash.%d", len(hostile)-1)).Title != "" })
	for i := range hostile {
		c.Clicks <- fmt.Sprintf("crash.%d.project", i)
		c.Clicks <- fmt.Sprintf("crash.%d.open", i)
	}
	time.Sleep(time.Second)
	if b, err := os.ReadFile(log); err == nil {
		t.Fatalf("opened something a report implied:\n%s", b)
	}

	// The control: a real project and a real report.
	proj := filepath.Join(dir, "src", "shop")
	os.MkdirAll(proj, 0o755)
	good := filepath.Join(reports, "Python-2026-11-26-good.ips")
	os.WriteFile(good, []byte("{}"), 0o644)
	t.Cleanup(func() { os.Remove(good) })
	c.Events <- monitor.Event{Kind: monitor.KindCrash, Report: &report.Report{ID: "good", Path: good, Process: "Python", PID: 71000,
		Project: proj, Time: time.Now().Add(time.Minute).Format(time.RFC3339), Python: true, Cause: report.CauseForkSafety}}
	eventually(t, "listed", func() bool { return strings.Contains(ui.item("crash.0").Title, "71000") })
	c.Clicks <- "crash.0.project"
	eventually(t, "project revealed", func() bool { b, _ := os.ReadFile(log); return strings.Contains(string(b), "-R\n"+proj+"\n--end--") })
	c.Clicks <- "crash.0.open"
	eventually(t, "report opened", func() bool {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), "-a\nConsole\n"+good+"\n--end--")
	})
}
