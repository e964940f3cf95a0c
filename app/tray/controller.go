package tray

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/app/pages"
	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
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
// Nothing else touches the state.
type Controller struct {
	// onTraceChange is told when fork tracing was turned on or off from
	// the menu (the spool sweeper decides its interval again).
	onTraceChange func()
	env           settings.Env
	toggles       []settings.Toggle
	desk          desktop.Desktop
	notifier      notify.Notifier
	alerter       *notify.Alerter
	log           *slog.Logger
	coreDir       string
	coreName      string
	supportDir    string

	ui       UI
	state    MenuState
	busy     map[string]bool
	Events   chan monitor.Event
	Clicks   chan string
	results  chan func()
	now      func() time.Time
	menuDump string
	history  *history.DB
	// notifyPath reads how notifications are delivered, for About.
	notifyPath func() string
	tracer     *forktrace.Manager
	// counting is set while a count of today's and the week's crashes is
	// being read from the history.
	counting   bool
	policy     func() managed.Settings
	exportLine func(context.Context) string
}

// ControllerConfig holds what NewController needs.
type ControllerConfig struct {
	Env        settings.Env
	Desktop    desktop.Desktop
	Notifier   notify.Notifier
	Alerter    *notify.Alerter
	Log        *slog.Logger
	CoreDir    string
	CoreName   string
	SupportDir string
	// ReportDirs are the watched report folders: Open Report opens only a
	// regular file inside one of them.
	ReportDirs []string
	Recent     []report.Report
	// FileManager is "Finder" on macOS.
	FileManager string
	// MenuDump, when set, receives the menu as JSON after every change (for
	// the end-to-end test, which cannot read pixels).
	MenuDump string
	// History is the crash history this process records (nil when another
	// Forkwatch holds it, or in tests): toggle changes and removed core
	// files go there, the status line counts from it, and Crash History…
	// shows it.
	History *history.DB
	// NotifyPath says how notifications are delivered now (it can change
	// after start-up, when the native path has proved itself).
	NotifyPath func() string
	// Tracer manages fork tracing for the Fork Tracing submenu (nil: the
	// submenu lists nothing).
	Tracer *forktrace.Manager
	// Policy returns the managed settings now (nil: nothing is managed);
	// ExportLine the export line of About (nil: none). See managed.go.
	Policy     func() managed.Settings
	ExportLine func(context.Context) string
	// OnTraceChange is told when fork tracing was turned on or off from
	// the menu (the spool sweeper decides its interval again); may be nil.
	OnTraceChange func()
}

// NewController sets up the state; Run shows it.
func NewController(cfg ControllerConfig) *Controller {
	c := &Controller{
		env: cfg.Env, toggles: settings.All(cfg.Env), desk: cfg.Desktop, notifier: cfg.Notifier,
		alerter: cfg.Alerter, log: cfg.Log, coreDir: cfg.CoreDir, coreName: cfg.CoreName, supportDir: cfg.SupportDir,
		busy:   map[string]bool{},
		Events: make(chan monitor.Event, 1024), Clicks: make(chan string, 64), results: make(chan func(), 64),
		now: time.Now,
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.coreName == "" {
		c.coreName = "core.%P"
	}
	c.state.CoreDir = cfg.CoreDir
	c.state.FileManager = cfg.FileManager
	c.menuDump = cfg.MenuDump
	c.history = cfg.History
	c.notifyPath = cfg.NotifyPath
	c.tracer = cfg.Tracer
	c.policy, c.exportLine = cfg.Policy, cfg.ExportLine
	c.onTraceChange = cfg.OnTraceChange
	if c.desk != nil {
		// Paths from crash reports are opened only when they are what
		// the item says: a report in a watched folder, a plain folder.
		c.desk = desktop.Guarded{Desktop: c.desk, ReportDirs: cfg.ReportDirs}
	}
	c.state.Crashes = append(c.state.Crashes, cfg.Recent...)
	for _, t := range c.toggles {
		c.state.Toggles = append(c.state.Toggles, ToggleView{Name: t.Name(), Label: t.Label(), Busy: true})
	}
	return c
}

// Run drives the menu until ctx is done or Quit is chosen. It does not
// return before ctx is done or the UI quits.
func (c *Controller) Run(ctx context.Context, ui UI) {
	c.ui = ui
	c.listCores()
	c.refreshToggles(ctx)
	c.refreshCounts(ctx)
	c.refreshTraces(ctx)
	c.render()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-c.Events:
			c.onEvent(ev)
			if ev.Kind == monitor.KindCrash {
				c.refreshCounts(ctx)
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

func (c *Controller) render() {
	// Core files grow and vanish without an event each time; listing the
	// folder (a handful of entries, never opened) keeps the line true.
	c.listCores()
	s := c.state
	s.Now = c.now()
	if c.alerter != nil {
		s.PausedUntil = c.alerter.PausedUntil()
	}
	if c.notifyPath != nil {
		s.NotifyPath = "Notifications: " + c.notifyPath()
	}
	items := BuildMenu(s)
	c.ui.Update(items)
	c.ui.SetAlert(s.Unseen > 0)
	if c.menuDump != "" {
		if b, err := json.Marshal(items); err == nil {
			atomicfile.WriteAtomic(c.menuDump, b, 0o600)
		}
	}
}

// NotificationAction is the notifier's ActionHandler: Open Report, Copy
// Fix, Pause for 1 Hour, or a click on the body. It may be called on any
// goroutine (the system's notification threads); the work runs off the
// loop and its outcome is logged on it.
func (c *Controller) NotificationAction(action string, n notify.Notification) {
	go func() {
		err := notify.RunAction(context.Background(), c.desk, c.alerter, time.Now(), action, n)
		select {
		case c.results <- func() {
			if err != nil {
				c.log.Warn("notification action", "action", action, "err", err)
			}
		}:
		case <-time.After(5 * time.Second):
		}
	}()
}

// later runs slow work off the loop and applies its result on the loop.
func (c *Controller) later(ctx context.Context, work func() func()) {
	go func() {
		apply := work()
		if apply == nil {
			return
		}
		select {
		case c.results <- apply:
		case <-ctx.Done():
		}
	}()
}

// refreshToggles reads every toggle's state from the system.
func (c *Controller) refreshToggles(ctx context.Context) {
	c.later(ctx, func() func() {
		states := make([]settings.State, len(c.toggles))
		for i, t := range c.toggles {
			states[i] = t.State(ctx)
		}
		pol := c.managed()
		line := ""
		if c.exportLine != nil {
			line = c.exportLine(ctx)
		}
		return func() {
			for i := range c.state.Toggles {
				c.state.Toggles[i].State = states[i]
				c.state.Toggles[i].Busy = c.busy[c.toggles[i].Name()]
				_, c.state.Toggles[i].Managed = pol.Enforced(c.toggles[i].Name())
			}
			c.state.ExportLine = line
			c.state.TracingRefused = policy.ForkTracingRefused(pol) != nil
		}
	})
}

// refreshCounts reads today's and the last seven days' crash counts from
// the history, which outlasts the menu's list of recent crashes (a crash
// loop of a thousand children). One read at a time; the history commits
// within about a second, so a read taken a second later catches up.
func (c *Controller) refreshCounts(ctx context.Context) {
	if c.history == nil || c.counting {
		return
	}
	c.counting = true
	c.later(ctx, func() func() {
		time.Sleep(1200 * time.Millisecond)
		now := c.now()
		today, week, err := c.history.Counts(ctx, now)
		var groups, runtimes map[string]int
		if err == nil {
			groups, err = c.history.GroupCounts(ctx, now.AddDate(0, 0, -7))
		}
		if err == nil {
			runtimes, err = c.history.RuntimeCounts(ctx, now)
		}
		return func() {
			c.counting = false
			if err != nil {
				c.log.Warn("history: counts", "err", err)
				return
			}
			c.state.Counts = &CrashCounts{Today: today, Week: week, Groups: groups, Runtimes: runtimes}
		}
	})
}

// refreshTraces reads which interpreters and venvs have the fork tracer,
// from their site-packages (the tracer's registry, the usual places, and the
// venvs of the crashes listed).
func (c *Controller) refreshTraces(ctx context.Context) {
	if c.tracer == nil {
		return
	}
	var venvs []string
	seen := map[string]bool{}
	for _, r := range recentCrashes(c.state.Crashes) {
		if r.Venv != "" && !seen[r.Venv] {
			seen[r.Venv] = true
			venvs = append(venvs, r.Venv)
		}
	}
	c.later(ctx, func() func() {
		views := TraceViews(ctx, c.tracer, venvs...)
		if len(views) > maxTraces {
			views = views[:maxTraces]
		}
		return func() { c.state.Traces = views }
	})
}

// traceAction turns fork tracing on or off for trace.N; the check mark is
// read back from site-packages afterwards.
func (c *Controller) traceAction(ctx context.Context, id string) {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "trace."))
	if err != nil || n < 0 || n >= len(c.state.Traces) || c.tracer == nil || c.state.Traces[n].Busy {
		return
	}
	tv := c.state.Traces[n]
	c.state.Traces[n].Busy = true
	c.later(ctx, func() func() {
		err := SetTrace(ctx, c.tracer, tv.Target, !tv.On)
		if c.onTraceChange != nil {
			c.onTraceChange()
		}
		return func() {
			if err != nil {
				c.fail("Could not turn fork tracing "+wording.OnOff(!tv.On)+" for "+tv.Label, err)
			}
			c.refreshTraces(ctx)
		}
	})
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
		c.state.Crashes = append(c.state.Crashes, *ev.Report)
		if n := len(c.state.Crashes); n > 200 {
			c.state.Crashes = c.state.Crashes[n-200:]
		}
		if !ev.History && report.Notable(ev.Report) {
			c.state.Unseen++
		}
		c.state.Problem = ""
	case monitor.KindCore:
		c.listCores()
	case monitor.KindError:
		if ev.Path != "" && (strings.HasSuffix(ev.Path, "DiagnosticReports") || ev.Path == c.coreDir) {
			c.state.Problem = ev.Err
		}
	}
	// A profile may turn notifications off (Notifications false).
	if c.alerter != nil && c.managed().NotificationsOn() {
		c.alerter.Event(ev)
	}
}

func (c *Controller) listCores() {
	if c.coreDir == "" {
		return
	}
	cores, err := monitor.ListCores(c.coreDir, c.coreName)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		c.log.Warn("list cores", "err", err)
	}
	c.state.Cores = cores
}

func (c *Controller) fail(title string, err error) {
	c.log.Warn(title, "err", err)
	if c.notifier == nil {
		return
	}
	go c.notifier.Notify(title, notify.Text(err.Error(), 300))
}

func (c *Controller) onClick(ctx context.Context, id string) {
	switch {
	case strings.HasPrefix(id, "toggle."):
		c.toggle(ctx, strings.TrimPrefix(id, "toggle."))
	case strings.HasPrefix(id, "crash."):
		c.crashAction(ctx, id)
	case strings.HasPrefix(id, "trace."):
		c.traceAction(ctx, id)
	case id == "seen":
		c.state.Unseen = 0
	case id == "cores.reveal":
		target := c.coreDir
		if len(c.state.Cores) > 0 {
			target = c.state.Cores[0].Path
		}
		c.later(ctx, func() func() {
			if err := c.desk.Reveal(ctx, target); err != nil {
				c.fail("Could not reveal the core files", err)
			}
			return nil
		})
	case id == "cores.trash":
		c.trashCores(ctx)
	case id == "pause.hour":
		c.alerter.PauseUntil(c.now().Add(time.Hour))
	case id == "pause.tomorrow":
		y, m, d := c.now().Date()
		c.alerter.PauseUntil(time.Date(y, m, d+1, 8, 0, 0, 0, c.now().Location()))
	case id == "pause.resume":
		c.alerter.PauseUntil(time.Time{})
	case id == "doctor" || id == "probe":
		probe := id == "probe"
		c.openPage(ctx, id, "Could not check this Mac", func() (string, error) {
			return pages.DoctorPage(ctx, c.supportDir, probe, c.log, c.history)
		})
	case id == "history":
		c.openPage(ctx, id, "Could not show the crash history", func() (string, error) {
			return c.historyPage(ctx)
		})
	case id == "about":
		c.later(ctx, func() func() {
			if err := c.openAbout(ctx); err != nil {
				c.fail("Could not open the explanation", err)
			}
			return nil
		})
	}
}

// toggle flips a setting. The check mark changes only when the state read
// back from the system says so.
func (c *Controller) toggle(ctx context.Context, name string) {
	if c.busy[name] {
		return
	}
	var t settings.Toggle
	var cur ToggleView
	for i, tv := range c.state.Toggles {
		if tv.Name == name {
			t, cur = c.toggles[i], tv
		}
	}
	if t == nil {
		return
	}
	if err := policy.Refuse(c.managed(), name); err != nil {
		c.fail("Nothing changed", err)
		return
	}
	want := !cur.State.On
	c.busy[name] = true
	c.setBusy(name, true)
	c.later(ctx, func() func() {
		var st settings.State
		err := c.env.MkdirRecorded(c.supportDir)
		if err == nil {
			var unlock func()
			if unlock, err = settings.Lock(c.supportDir); err == nil {
				st, err = settings.SetAndVerify(ctx, t, want)
				unlock()
			}
		}
		if c.history != nil && st.Error == "" && st.On == want {
			if herr := c.history.RecordToggle(name, st.On, st.Detail, c.now()); herr != nil {
				c.log.Warn("history: record toggle", "err", herr)
			}
		}
		return func() {
			c.busy[name] = false
			for i := range c.state.Toggles {
				if c.state.Toggles[i].Name == name {
					c.state.Toggles[i].State = st
					c.state.Toggles[i].Busy = false
				}
			}
			if err != nil {
				title := "Could not turn " + wording.OnOff(want) + ": " + t.Label()
				if errors.Is(err, settings.ErrCancelled) {
					title = "Nothing changed"
				}
				c.fail(title, err)
			}
			c.refreshToggles(ctx)
		}
	})
}

// managed returns the managed settings now.
func (c *Controller) managed() managed.Settings {
	if c.policy == nil {
		return managed.Settings{}
	}
	return c.policy()
}

func (c *Controller) setBusy(name string, busy bool) {
	for i := range c.state.Toggles {
		if c.state.Toggles[i].Name == name {
			c.state.Toggles[i].Busy = busy
		}
	}
}

// crashAction handles crash.N.open, crash.N.copy (Copy Fix) and
// crash.N.project.
func (c *Controller) crashAction(ctx context.Context, id string) {
	parts := strings.Split(id, ".")
	if len(parts) != 3 {
		return
	}
	n, err := strconv.Atoi(parts[1])
	crashes := recentCrashes(c.state.Crashes)
	if err != nil || n < 0 || n >= len(crashes) {
		return
	}
	r := crashes[n]
	switch parts[2] {
	case "open":
		c.later(ctx, func() func() {
			if err := c.desk.OpenReport(ctx, r.Path); err != nil {
				c.fail("Could not open the report", err)
			}
			return nil
		})
	case "debug":
		c.later(ctx, func() func() {
			if err := c.debugReport(ctx, r.Path); err != nil {
				c.fail("Could not open the debugger", err)
			}
			return nil
		})
	case "copy":
		fix := notify.FixOrAdvice(r)
		c.later(ctx, func() func() {
			if err := c.desk.Copy(ctx, fix); err != nil {
				// No clipboard: show the fix instead.
				if c.notifier != nil {
					c.notifier.Notify("Fix for "+r.Process, fix)
				}
			}
			return nil
		})
	case "project":
		dir := notify.ProjectOf(r)
		if dir == "" {
			return
		}
		c.later(ctx, func() func() {
			if err := c.desk.OpenFolder(ctx, dir); err != nil {
				c.fail("Could not open the project folder", err)
			}
			return nil
		})
	}
}

// trashCores asks for confirmation naming the count and size, then moves
// the core files to the Trash. Each path is checked again just before, so
// nothing that turned into a symlink meanwhile is touched.
func (c *Controller) trashCores(ctx context.Context) {
	cores := append([]report.CoreFile(nil), c.state.Cores...)
	if len(cores) == 0 {
		return
	}
	dir, name := c.coreDir, c.coreName
	c.later(ctx, func() func() {
		var total int64
		for _, cf := range cores {
			total += cf.Size
		}
		q := fmt.Sprintf("Move %d core %s (%s) in %s to the Trash?", len(cores), wording.Plural(len(cores), "file", "files"), wording.HumanBytes(total), dir)
		ok, err := c.desk.Confirm(ctx, q, "Move to Trash")
		if err != nil {
			c.fail("Could not ask before moving core files", err)
			return nil
		}
		if !ok {
			return nil
		}
		var paths []string
		for _, cf := range cores {
			if err := monitor.IsCoreFile(dir, name, cf.Path); err != nil {
				c.log.Warn("not moving", "path", cf.Path, "err", err)
				continue
			}
			paths = append(paths, cf.Path)
		}
		if len(paths) > 0 {
			if err := c.desk.Trash(ctx, paths); err != nil {
				c.fail("Could not move the core files to the Trash", err)
			} else if c.history != nil {
				for _, p := range paths {
					if _, serr := os.Lstat(p); errors.Is(serr, fs.ErrNotExist) {
						if herr := c.history.RecordCoreRemoved(p, c.now()); herr != nil {
							c.log.Warn("history: record core removed", "err", herr)
						}
					}
				}
			}
		}
		return func() { c.listCores() }
	})
}

// openPage runs slow work that writes a page (the check of this Mac, the
// history), marking the item as working meanwhile, then opens the page.
func (c *Controller) openPage(ctx context.Context, id, failTitle string, write func() (string, error)) {
	if c.state.Working[id] {
		return
	}
	if c.state.Working == nil {
		c.state.Working = map[string]bool{}
	}
	c.state.Working[id] = true
	c.later(ctx, func() func() {
		err := c.env.MkdirRecorded(c.supportDir)
		var p string
		if err == nil {
			p, err = write()
		}
		if err == nil {
			err = c.desk.OpenDocument(ctx, p)
		}
		return func() {
			delete(c.state.Working, id)
			if err != nil {
				c.fail(failTitle, err)
			}
		}
	})
}

// historyPage writes the history page from the database this process
// records, or, when another Forkwatch records it, from a read-only look.
func (c *Controller) historyPage(ctx context.Context) (string, error) {
	if c.history != nil {
		return pages.WriteHistoryPage(ctx, c.history.Reader, c.history.Path(), "", c.now(), time.Time{})
	}
	r, err := history.OpenReader(appinfo.HistoryDBPath(), time.Local)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return pages.WriteHistoryPage(ctx, r, appinfo.HistoryDBPath(), "", c.now(), time.Time{})
}

// openAbout writes the explanation page and opens it.
func (c *Controller) openAbout(ctx context.Context) error {
	if err := c.env.MkdirRecorded(c.supportDir); err != nil {
		return err
	}
	p, err := pages.AboutPage(c.supportDir)
	if err != nil {
		return err
	}
	return c.desk.OpenDocument(ctx, p)
}
