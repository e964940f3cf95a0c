package tray

import (
	"context"
	"github.com/forkwatch/forkwatch/app/internal/apptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/settings"
)

type fakeUI struct {
	mu    sync.Mutex
	items []Item
	alert bool
	quit  bool
}

func (f *fakeUI) Update(items []Item) { f.mu.Lock(); f.items = items; f.mu.Unlock() }
func (f *fakeUI) SetAlert(a bool)     { f.mu.Lock(); f.alert = a; f.mu.Unlock() }
func (f *fakeUI) Quit()               { f.mu.Lock(); f.quit = true; f.mu.Unlock() }
func (f *fakeUI) item(id string) Item {
	f.mu.Lock()
	defer f.mu.Unlock()
	return findItem(f.items, id)
}

type fakeDesk struct {
	mu       sync.Mutex
	calls    []string
	confirm  bool
	trashed  []string
	question string
}

func (d *fakeDesk) rec(s string)                                 { d.mu.Lock(); d.calls = append(d.calls, s); d.mu.Unlock() }
func (d *fakeDesk) OpenReport(_ context.Context, p string) error { d.rec("open " + p); return nil }
func (d *fakeDesk) Reveal(_ context.Context, p string) error     { d.rec("reveal " + p); return nil }
func (d *fakeDesk) OpenFolder(_ context.Context, p string) error { d.rec("folder " + p); return nil }
func (d *fakeDesk) OpenDocument(_ context.Context, p string) error {
	d.rec("doc " + p)
	return nil
}
func (d *fakeDesk) Copy(_ context.Context, s string) error { d.rec("copy " + s); return nil }
func (d *fakeDesk) Confirm(_ context.Context, q, yes string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.question = q
	return d.confirm, nil
}
func (d *fakeDesk) Trash(_ context.Context, paths []string) error {
	d.mu.Lock()
	d.trashed = append(d.trashed, paths...)
	d.mu.Unlock()
	for _, p := range paths {
		os.Remove(p)
	}
	return nil
}
func (d *fakeDesk) log() string { d.mu.Lock(); defer d.mu.Unlock(); return strings.Join(d.calls, "\n") }

// absSample is sample's absolute path, as the watcher reports paths.
func absSample(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(sample(name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newTestController(t *testing.T) (*Controller, *fakeUI, *fakeDesk, *fakeNotifier, string, context.CancelFunc) {
	env := fakeCommands(t, testEnv(t))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	home := envValue(env, "HOME")
	cores := filepath.Join(home, "cores")
	os.MkdirAll(cores, 0o755)
	senv := settings.Env{Home: home, GOOS: "darwin", UID: 501, Exe: "/Applications/Forkwatch.app/Contents/MacOS/forkwatch", PromptTimeout: 5 * time.Second, SupportDir: filepath.Join(home, "support")}
	n := &fakeNotifier{}
	desk := &fakeDesk{}
	c := NewController(ControllerConfig{Env: senv, Desktop: desk, Notifier: n, Alerter: notify.NewAlerter(n, time.Minute, nil), CoreDir: cores, SupportDir: senv.SupportDir,
		ReportDirs: []string{filepath.Dir(absSample(t, "python313-duckdb-segv-chunkhound.ips"))}})
	ui := &fakeUI{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, ui); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, ui, desk, n, cores, cancel
}

// TestControllerToggle: a click changes the system, and the check mark
// follows the state read back; a cancelled prompt leaves it and says why.
func TestControllerToggle(t *testing.T) {
	c, ui, _, n, _, _ := newTestController(t)
	eventually(t, "toggles read", func() bool {
		it := ui.item("toggle.fork-safety-off")
		return !it.Disabled && !it.Checked && it.Title != ""
	})
	c.Clicks <- "toggle.fork-safety-off"
	eventually(t, "check mark", func() bool { return ui.item("toggle.fork-safety-off").Checked })
	if b, err := os.ReadFile(filepath.Join(os.Getenv("FAKE_STATE"), "env.OBJC_DISABLE_INITIALIZE_FORK_SAFETY")); err != nil || strings.TrimSpace(string(b)) != "YES" {
		t.Errorf("launchctl setenv not done: %q %v", b, err)
	}
	t.Setenv("FAKE_OSASCRIPT_CANCEL", "1")
	c.Clicks <- "toggle.coredump-off"
	eventually(t, "cancel notification", func() bool { return strings.Contains(n.All(), "Nothing changed") })
	eventually(t, "not busy", func() bool { return !ui.item("toggle.coredump-off").Disabled })
	if ui.item("toggle.coredump-off").Checked {
		t.Error("check mark set though the prompt was cancelled")
	}
}

// TestControllerCrashes: a new Python crash sets the alert icon, notifies,
// lists it; Open Report and Copy Advice use the report's own path/advice.
func TestControllerCrashes(t *testing.T) {
	c, ui, desk, n, _, _ := newTestController(t)
	// The watcher's paths are absolute; Open Report opens nothing else.
	r, err := report.ReadFile(absSample(t, "python313-duckdb-segv-chunkhound.ips"))
	if err != nil {
		t.Fatal(err)
	}
	c.Events <- monitor.Event{Kind: monitor.KindCrash, Report: r}
	eventually(t, "listed", func() bool { return strings.Contains(ui.item("crash.0").Title, "Python (28566)") })
	ui.mu.Lock()
	alert := ui.alert
	ui.mu.Unlock()
	if !alert {
		t.Error("no alert icon for an unseen crash")
	}
	eventually(t, "notification", func() bool { return strings.Contains(n.All(), "Python (pid 28566, parent uv 28565)") })
	c.Clicks <- "crash.0.open"
	c.Clicks <- "crash.0.copy"
	eventually(t, "actions", func() bool {
		return strings.Contains(desk.log(), "open "+r.Path) && strings.Contains(desk.log(), "copy "+r.Advice)
	})
	c.Clicks <- "seen"
	eventually(t, "alert cleared", func() bool { ui.mu.Lock(); defer ui.mu.Unlock(); return !ui.alert })
}

// TestControllerTrash: the confirmation names count and size; a symlink
// named like a core file is never passed on; "no" moves nothing.
func TestControllerTrash(t *testing.T) {
	c, ui, desk, _, cores, _ := newTestController(t)
	os.WriteFile(filepath.Join(cores, "core.11"), make([]byte, 1500), 0o600)
	os.WriteFile(filepath.Join(cores, "core.12"), make([]byte, 2500), 0o600)
	outside := filepath.Join(t.TempDir(), "precious")
	os.WriteFile(outside, []byte("keep"), 0o600)
	os.Symlink(outside, filepath.Join(cores, "core.13"))
	c.Events <- monitor.Event{Kind: monitor.KindCore, Core: &report.CoreFile{Path: filepath.Join(cores, "core.11")}}
	eventually(t, "cores listed", func() bool { return ui.item("cores").Title == "2 core files, 4.0 kB in "+cores })

	c.Clicks <- "cores.trash"
	eventually(t, "question", func() bool { desk.mu.Lock(); defer desk.mu.Unlock(); return desk.question != "" })
	desk.mu.Lock()
	q := desk.question
	desk.mu.Unlock()
	// Foundation's trash keeps no Put Back (desktop.TrashNote): the
	// question says so, and so does the item's help.
	if !strings.Contains(q, "Move 2 core files (4.0 kB)") || !strings.Contains(q, "Put Back is not offered") {
		t.Errorf("question: %q", q)
	}
	if tip := ui.item("cores.trash").Tooltip; !strings.Contains(tip, "Put Back is not offered") {
		t.Errorf("Move to Trash… help: %q", tip)
	}
	time.Sleep(200 * time.Millisecond)
	desk.mu.Lock()
	n := len(desk.trashed)
	desk.mu.Unlock()
	if n != 0 {
		t.Fatal("trashed after 'no'")
	}
	desk.mu.Lock()
	desk.confirm = true
	desk.mu.Unlock()
	c.Clicks <- "cores.trash"
	eventually(t, "trashed", func() bool { return ui.item("cores").Title == "No core files in "+cores })
	desk.mu.Lock()
	defer desk.mu.Unlock()
	for _, p := range desk.trashed {
		if strings.HasSuffix(p, "core.13") {
			t.Error("a symlink was passed to the Trash")
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Error("file outside the core folder touched")
	}
}

// TestControllerMenuActions: Reveal, About and Pause do what they say.
func TestControllerMenuActions(t *testing.T) {
	c, ui, desk, _, cores, _ := newTestController(t)
	c.Clicks <- "cores.reveal"
	eventually(t, "reveal", func() bool { return strings.Contains(desk.log(), "reveal "+cores) })
	c.Clicks <- "about"
	eventually(t, "about page", func() bool { return strings.Contains(desk.log(), "doc ") })
	for _, l := range strings.Split(desk.log(), "\n") {
		if p, ok := strings.CutPrefix(l, "doc "); ok {
			b, err := os.ReadFile(p)
			if err != nil || !strings.Contains(string(b), "OBJC_DISABLE_INITIALIZE_FORK_SAFETY") {
				t.Errorf("about page %s: %v", p, err)
			}
		}
	}
	c.Clicks <- "pause.hour"
	eventually(t, "paused", func() bool { return strings.HasPrefix(ui.item("pause").Title, "Notifications Paused Until") })
	if ui.item("pause.resume").Hidden {
		t.Error("no Resume item while paused")
	}
	c.Clicks <- "pause.resume"
	eventually(t, "resumed", func() bool { return ui.item("pause").Title == "Pause Notifications" })
	c.Clicks <- "quit"
	eventually(t, "quit", func() bool { ui.mu.Lock(); defer ui.mu.Unlock(); return ui.quit })
}

// TestStopEndsMenuUpdates: after Stop the controller calls nothing of the
// UI, though events keep coming (the shutdown stops the menu's updates
// before anything else; see Shutdown).
func TestStopEndsMenuUpdates(t *testing.T) {
	c, ui, _, _, _, _ := newTestController(t)
	eventually(t, "the first render", func() bool { return ui.item("status").Title != "" })
	c.Stop()
	ui.mu.Lock()
	ui.items = nil
	ui.mu.Unlock()
	c.Events <- monitor.Event{Kind: monitor.KindError, Path: "/x/DiagnosticReports", Err: "unreadable"}
	c.RefreshToggles(context.Background())
	time.Sleep(200 * time.Millisecond) // what a render would take, many times over
	if it := ui.item("status"); !strings.HasPrefix(it.ID, "missing:") {
		t.Errorf("the menu was updated after Stop: %+v", it)
	}
}

// TestMacOnlyTogglesInLinuxMenu: on Linux the menu shows kern.coredump
// and the launchd variable as `status` does, "… (macOS only)", greyed,
// with the reason as help, never read (no sysctl or launchctl run) and
// never set by a click; the toggles Linux has stay live.
func TestMacOnlyTogglesInLinuxMenu(t *testing.T) {
	env := fakeCommands(t, testEnv(t))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	home := envValue(env, "HOME")
	recorder(t, filepath.Join(home, "fakebin"), "launchctl")
	recorder(t, filepath.Join(home, "fakebin"), "sysctl")
	recorder(t, filepath.Join(home, "fakebin"), "osascript")
	senv := settings.Env{Home: home, GOOS: "linux", UID: 1000, Exe: "/usr/bin/forkwatch", PromptTimeout: 5 * time.Second, SupportDir: filepath.Join(home, "support")}
	c := NewController(ControllerConfig{Env: senv, CoreDir: filepath.Join(home, "cores"), SupportDir: senv.SupportDir})
	ui := &fakeUI{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, ui); close(done) }()
	defer func() { cancel(); <-done }()
	eventually(t, "toggles read", func() bool { it := ui.item("toggle.ulimit-core"); return it.Title != "" && !it.Disabled })
	for _, name := range []string{settings.CoredumpOff, settings.ForkSafetyOff} {
		it := ui.item("toggle." + name)
		if !strings.HasSuffix(it.Title, " (macOS only)") || !it.Disabled || it.Checked || !strings.Contains(it.Tooltip, "macOS only") {
			t.Errorf("%s: %+v", name, it)
		}
		c.Clicks <- "toggle." + name
	}
	if it := ui.item("toggle.ulimit-core"); strings.Contains(it.Title, "macOS only") || it.Disabled {
		t.Errorf("ulimit-core on Linux: %+v", it)
	}
	c.Clicks <- "toggle.nothing" // the loop has handled the clicks before it
	time.Sleep(100 * time.Millisecond)
	for _, name := range []string{"launchctl", "sysctl", "osascript"} {
		if b, err := os.ReadFile(filepath.Join(home, "fakebin", name+".log")); err == nil {
			t.Errorf("%s ran for a macOS-only toggle on Linux:\n%s", name, b)
		}
	}
}

// fakeLoginService keeps SMAppService's documented states: register makes
// it enabled (or requiresApproval, the user's switch in System Settings),
// unregister notRegistered.
type fakeLoginService struct {
	mu        sync.Mutex
	status    settings.ServiceStatus
	approval  bool // register leaves it requiring approval
	registers int
}

func (f *fakeLoginService) Register() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registers++
	f.status = settings.ServiceEnabled
	if f.approval {
		f.status = settings.ServiceRequiresApproval
	}
	return nil
}

func (f *fakeLoginService) Unregister() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = settings.ServiceNotRegistered
	return nil
}

func (f *fakeLoginService) Status() (settings.ServiceStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

// TestLoginItemInMenu: the login item's check mark is SMAppService's
// status read back after the click; requiresApproval is not "on" and its
// help says where to approve; a copy running from an App Translocation
// path is never registered, and the item and the notification say to
// move Forkwatch to Applications first.
func TestLoginItemInMenu(t *testing.T) {
	for _, tc := range []struct {
		name, exe string
		approval  bool
	}{
		{"enabled", "/Applications/Forkwatch.app/Contents/MacOS/forkwatch", false},
		{"requires approval", "/Applications/Forkwatch.app/Contents/MacOS/forkwatch", true},
		{"translocated", "/private/var/folders/x7/abc/T/AppTranslocation/6A1F3C1E-0D0B-4E7E-9F0A-1B2C3D4E5F60/d/Forkwatch.app/Contents/MacOS/forkwatch", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := fakeCommands(t, testEnv(t))
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			home := envValue(env, "HOME")
			svc := &fakeLoginService{approval: tc.approval}
			senv := settings.Env{Home: home, GOOS: "darwin", UID: 501, Exe: tc.exe, PromptTimeout: 5 * time.Second, SupportDir: filepath.Join(home, "support"), LoginService: svc}
			n := &fakeNotifier{}
			c := NewController(ControllerConfig{Env: senv, Notifier: n, CoreDir: filepath.Join(home, "cores"), SupportDir: senv.SupportDir})
			ui := &fakeUI{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { c.Run(ctx, ui); close(done) }()
			defer func() { cancel(); <-done }()
			eventually(t, "toggles read", func() bool {
				it := ui.item("toggle.login-item")
				return it.Title != "" && !strings.Contains(it.Title, "working")
			})
			c.Clicks <- "toggle.login-item"
			switch tc.name {
			case "enabled":
				eventually(t, "checked", func() bool { return ui.item("toggle.login-item").Checked })
				if tip := ui.item("toggle.login-item").Tooltip; !strings.Contains(tip, "Open at Login") {
					t.Errorf("help: %q", tip)
				}
			case "requires approval":
				eventually(t, "registered", func() bool { svc.mu.Lock(); defer svc.mu.Unlock(); return svc.registers == 1 })
				eventually(t, "the approval named", func() bool {
					it := ui.item("toggle.login-item")
					return !it.Checked && !it.Disabled && strings.Contains(it.Tooltip, "System Settings → General → Login Items")
				})
			case "translocated":
				eventually(t, "told to move", func() bool { return strings.Contains(n.All(), "Move Forkwatch to Applications first") })
				eventually(t, "the item says so", func() bool {
					it := ui.item("toggle.login-item")
					return strings.HasSuffix(it.Title, "— Move Forkwatch to Applications first") && it.Disabled && !it.Checked
				})
				if svc.registers != 0 {
					t.Error("a translocated copy was registered")
				}
			}
		})
	}
}

// eventually waits for cond with apptest's generous bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	apptest.Eventually(t, what, cond)
}

// fakeNotifier records the notifications asked for (apptest.Notifier).
type fakeNotifier = apptest.Notifier
