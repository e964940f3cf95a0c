package tray

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/app/pages"
	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// UI is what the controller needs of the menu bar: the tray binding
// implements it, and tests use a fake.
type UI interface {
	// Update shows the items; called from the controller's goroutine only.
	Update(items []Item)
	// SetAlert switches between the normal and the alert icon.
	SetAlert(alert bool)
	Quit()
}

// Controller owns the menu state. Everything meets in Run's loop: watcher
// events, clicks from the binding, and the results of slow work (password
// prompts, dialogs) done in goroutines, which hand a func back to the loop.
// Nothing else touches the state. The slow work itself lives with its data:
// the toggles in toggles.go, the core files in cores.go, a crash's actions
// in crashes.go, the pages in pages.go, fork tracing in traces.go.
type Controller struct {
	offLoop                   // later, do, fail: the hands of the loop
	cfg      ControllerConfig // as given, with the Desktop guarded
	switches toggleSwitch
	traces   traceSection
	counts   countReader
	cores    coreShelf
	ui       UI
	state    MenuState
	Events   chan monitor.Event
	Clicks   chan string
	now      func() time.Time
	stopped  atomic.Bool // Stop was called: the UI is not touched again
}

// NewController sets up the state; Run shows it.
func NewController(cfg ControllerConfig) *Controller {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.CoreName == "" {
		cfg.CoreName = "core.%P"
	}
	if cfg.Desktop != nil {
		// Paths from crash reports are opened only when they are what
		// the item says: a report in a watched folder, a plain folder.
		cfg.Desktop = desktop.Guarded{Desktop: cfg.Desktop, ReportDirs: cfg.ReportDirs}
	}
	c := &Controller{
		cfg:      cfg,
		switches: toggleSwitch{env: cfg.Env, all: settings.All(cfg.Env), support: cfg.SupportDir, history: cfg.History, log: cfg.Log, busy: map[string]bool{}},
		traces:   traceSection{tracer: cfg.Tracer, changed: cfg.OnTraceChange},
		counts:   countReader{db: cfg.History, log: cfg.Log},
		cores:    coreShelf{dir: cfg.CoreDir, name: cfg.CoreName, history: cfg.History, log: cfg.Log, note: desktop.TrashNote(cfg.Env.GOOS)},
		Events:   make(chan monitor.Event, 1024), Clicks: make(chan string, 64),
		offLoop: offLoop{results: make(chan func(), 64), log: cfg.Log, notifier: cfg.Notifier},
		now:     time.Now,
	}
	c.state = MenuState{CoreDir: cfg.CoreDir, FileManager: cfg.FileManager, TrashNote: desktop.TrashNote(cfg.Env.GOOS),
		Crashes:         append([]report.Report(nil), cfg.Recent...),
		CanCheckProject: cfg.ChooseFolder != nil && cfg.CheckProject != nil}
	for _, t := range c.switches.all {
		// A macOS-only toggle elsewhere is shown, greyed, as `status` says it.
		c.state.Toggles = append(c.state.Toggles, ToggleView{Name: t.Name(), Label: t.Label(), Busy: true, MacOnly: errors.Is(cfg.Env.Supported(t.Name()), settings.ErrMacOnly)})
	}
	return c
}

// Run drives the menu until ctx is done or Quit is chosen. It does not
// return before ctx is done or the UI quits.
func (c *Controller) Run(ctx context.Context, ui UI) {
	c.ui = ui
	c.listCores()
	c.refreshToggles(ctx)
	c.counts.refresh(ctx, c.offLoop, &c.state, c.now)
	c.traces.refresh(ctx, c.offLoop, &c.state)
	c.render()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-c.Events:
			c.onEvent(ev)
			if ev.Kind == monitor.KindCrash {
				c.counts.refresh(ctx, c.offLoop, &c.state, c.now)
			}
		case id := <-c.Clicks:
			if id == "quit" {
				c.ui.Quit()
				return
			}
			c.onClick(ctx, id)
		case f := <-c.results:
			f()
		}
		c.render()
	}
}

// Stop stops the menu's updates: after it returns the controller calls
// nothing of the UI (one call already under way may finish or not). The
// shutdown calls it first: on macOS it runs on the main thread, which
// every systray setter waits for, so a render under way or to come would
// otherwise wait for the shutdown while the shutdown waits for it. It may
// be called from any goroutine.
func (c *Controller) Stop() { c.stopped.Store(true) }

func (c *Controller) render() {
	if c.stopped.Load() {
		return
	}
	// Core files grow and vanish without an event each time; listing the
	// folder (a handful of entries, never opened) keeps the line true.
	c.listCores()
	s := c.state
	s.Now = c.now()
	if c.cfg.Alerter != nil {
		s.PausedUntil = c.cfg.Alerter.PausedUntil()
	}
	if c.cfg.NotifyPath != nil {
		s.NotifyPath = "Notifications: " + c.cfg.NotifyPath()
	}
	items := BuildMenu(s)
	if c.stopped.Load() {
		return
	}
	c.ui.Update(items)
	if c.stopped.Load() {
		return
	}
	c.ui.SetAlert(s.Unseen > 0)
	if c.cfg.MenuDump != "" {
		if b, err := json.Marshal(items); err == nil {
			atomicfile.WriteAtomic(c.cfg.MenuDump, b, 0o600)
		}
	}
}

// NotificationAction is the notifier's ActionHandler: Open Report, Copy
// Fix, Pause for 1 Hour, or a click on the body. It may be called on any
// goroutine (the system's notification threads); the work runs off the
// loop and its outcome is logged on it.
func (c *Controller) NotificationAction(action string, n notify.Notification) {
	go func() {
		err := notify.RunAction(context.Background(), c.cfg.Desktop, c.cfg.Alerter, time.Now(), action, n)
		select {
		case c.results <- func() {
			if err != nil {
				c.cfg.Log.Warn("notification action", "action", action, "err", err)
			}
		}:
		case <-time.After(5 * time.Second):
		}
	}()
}

// refreshToggles reads the toggles again (toggles.go).
func (c *Controller) refreshToggles(ctx context.Context) {
	c.switches.refresh(ctx, c.offLoop, &c.state, c.managed, c.cfg.ExportLine)
}

// RefreshToggles asks the loop to read the toggles again (their files
// changed).
func (c *Controller) RefreshToggles(ctx context.Context) {
	select {
	case c.results <- func() { c.refreshToggles(ctx) }:
	case <-ctx.Done():
	}
}

func (c *Controller) onEvent(ev monitor.Event) {
	switch ev.Kind {
	case monitor.KindCrash:
		c.state.addCrash(ev.Report, ev.History)
	case monitor.KindCore:
		c.listCores()
	case monitor.KindRiskyFork:
		if ev.Risk != nil {
			c.state.addRisky(*ev.Risk)
		}
	case monitor.KindError:
		if ev.Path != "" && (strings.HasSuffix(ev.Path, "DiagnosticReports") || ev.Path == c.cores.dir) {
			c.state.Problem = ev.Err
		}
	}
	// A profile may turn notifications off (Notifications false).
	if c.cfg.Alerter != nil && c.managed().NotificationsOn() {
		c.cfg.Alerter.Event(ev)
	}
}

func (c *Controller) onClick(ctx context.Context, id string) {
	switch {
	case strings.HasPrefix(id, "toggle."):
		c.switches.flip(ctx, c.offLoop, &c.state, strings.TrimPrefix(id, "toggle."), c.managed(), c.now, func() { c.refreshToggles(ctx) })
	case strings.HasPrefix(id, "crash."):
		c.crashAction(ctx, id)
	case strings.HasPrefix(id, "trace."):
		c.traces.flip(ctx, c.offLoop, &c.state, id)
	case strings.HasPrefix(id, "pause."):
		if until, ok := pauseEnd(id, c.now()); ok {
			c.cfg.Alerter.PauseUntil(until)
		}
	case id == "seen":
		c.state.Unseen = 0
	case id == "cores.reveal":
		target := c.cores.dir
		if len(c.state.Cores) > 0 {
			target = c.state.Cores[0].Path
		}
		c.do(ctx, "Could not reveal the core files", func() error { return c.cfg.Desktop.Reveal(ctx, target) })
	case id == "cores.trash":
		c.cores.trashListed(ctx, c.offLoop, &c.state, c.cfg.Desktop, c.now)
	case id == "checkproject":
		c.checkProject(ctx)
	case id == "doctor" || id == "probe":
		probe := id == "probe"
		c.openPage(ctx, id, "Could not check this Mac", func() (string, error) {
			return pages.DoctorPage(ctx, c.cfg.SupportDir, probe, c.cfg.Log, c.cfg.History)
		})
	case id == "history":
		c.openPage(ctx, id, "Could not show the crash history", func() (string, error) {
			return historyPage(ctx, c.cfg.History, c.now())
		})
	case id == "about":
		c.do(ctx, "Could not open the explanation", func() error {
			return openAbout(ctx, c.cfg.Env, c.cfg.SupportDir, c.cfg.Desktop)
		})
	}
}

// managed returns the managed settings now.
func (c *Controller) managed() managed.Settings {
	if c.cfg.Policy == nil {
		return managed.Settings{}
	}
	return c.cfg.Policy()
}
