package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor"
)

func pyCrash(pid int) monitor.Event {
	return monitor.Event{Kind: monitor.KindCrash, Report: &report.Report{Process: "Python", PID: pid, ParentProcess: "Python", ParentPID: 1, Python: true, ForkChild: true, ObjCForkSafety: true, ObjCClass: "NSPlaceholderString", Cause: report.CauseForkSafety, Advice: "Use spawn."}}
}

// TestAlerterCrashLoop: the first crash notifies at once, the rest of a
// loop give one summary per window; history, non-Python crashes and paused
// time give nothing.
func TestAlerterCrashLoop(t *testing.T) {
	t.Parallel()
	n := &fakeNotifier{}
	// The window is long beside the 39 calls below, however slow the
	// machine: with a short one a stalled loop would see its later crashes
	// fall into the next window and get notifications of their own.
	a := NewAlerter(n, 2*time.Second, nil)
	a.Event(monitor.Event{Kind: monitor.KindCrash, Report: &report.Report{Process: "Safari", Cause: "crash"}})
	h := pyCrash(1)
	h.History = true
	a.Event(h)
	for i := 0; i < 37; i++ {
		a.Event(pyCrash(4200 + i))
	}
	eventually(t, "two notifications", func() bool { return strings.Count(n.All(), "\n") == 1 })
	time.Sleep(500 * time.Millisecond)
	got := n.All()
	lines := strings.Split(got, "\n")
	if len(lines) != 2 {
		t.Fatalf("notifications:\n%s", got)
	}
	if !strings.HasPrefix(lines[0], "Python crashed after fork() | Python (pid 4200, parent Python 1) was killed by the Objective-C fork-safety check in +[NSPlaceholderString initialize].") {
		t.Errorf("first: %s", lines[0])
	}
	if !strings.HasPrefix(lines[1], "36 more Python crashes from Python") {
		t.Errorf("summary: %s", lines[1])
	}
	a.PauseUntil(time.Now().Add(time.Hour))
	a.Event(pyCrash(9999))
	time.Sleep(400 * time.Millisecond)
	if strings.Count(n.All(), "\n") != 1 {
		t.Errorf("notified while paused:\n%s", n.All())
	}
}

// TestAlerterCoreFile: a big complete core file is announced with its size.
func TestAlerterCoreFile(t *testing.T) {
	n := &fakeNotifier{}
	a := NewAlerter(n, time.Minute, nil)
	a.Event(monitor.Event{Kind: monitor.KindCore, Core: &report.CoreFile{Path: "/cores/core.4242", PID: 4242, Size: 50 << 20, Complete: true}})
	a.Event(monitor.Event{Kind: monitor.KindCore, Core: &report.CoreFile{Path: "/cores/core.4243", PID: 4243, Size: 3_100_000_000, Complete: true, Process: "Python"}})
	eventually(t, "notification", func() bool { return n.All() != "" })
	if got := n.All(); !strings.HasPrefix(got, "Core file: 3.1 GB | Python (pid 4243) left 3.1 GB") || strings.Contains(got, "4242") {
		t.Errorf("got %q", got)
	}
}

func TestNotificationText(t *testing.T) {
	if got := Text("--help\nme\x1b[1m", 100); strings.HasPrefix(got, "-") || strings.ContainsAny(got, "\n\x1b") {
		t.Errorf("got %q", got)
	}
}

// fakeBackend stands in for UNUserNotificationCenter.
type fakeBackend struct {
	mu        sync.Mutex
	status    authStatus
	grant     bool
	setupErr  error
	postErr   error
	requests  int
	block     bool // Request waits for its context (a prompt nobody answers)
	posted    []string
	onRespond func(id, action string)
}

func (b *fakeBackend) Status(context.Context) (authStatus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, nil
}
func (b *fakeBackend) Request(ctx context.Context) (bool, error) {
	b.mu.Lock()
	b.requests++
	block := b.block
	b.mu.Unlock()
	if block {
		<-ctx.Done()
		return false, ctx.Err()
	}
	return b.grant, nil
}
func (b *fakeBackend) Setup(f func(id, action string)) error { b.onRespond = f; return b.setupErr }
func (b *fakeBackend) Post(_ context.Context, id string, n Notification) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.postErr != nil {
		return b.postErr
	}
	b.posted = append(b.posted, id+" "+n.Title)
	return nil
}

// fakeActionNotifier is the fallback (beeep) in tests.
type fakeActionNotifier struct {
	fakeNotifier
	path string
}

func (f *fakeActionNotifier) Post(n Notification) error { return f.Notify(n.Title, n.Body) }
func (f *fakeActionNotifier) OnAction(ActionHandler)    {}
func (f *fakeActionNotifier) Path() string              { return f.path }

// fakeBundle lays out Name.app/Contents/{MacOS/forkwatch,Info.plist} and
// returns the executable's path.
func fakeBundle(t *testing.T, plistBody string, sub string) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "Forkwatch.app")
	exe := filepath.Join(app, "Contents", sub, "forkwatch")
	os.MkdirAll(filepath.Dir(exe), 0o755)
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	if plistBody != "" {
		os.WriteFile(filepath.Join(app, "Contents", "Info.plist"), []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>`+plistBody+`</dict></plist>`), 0o644)
	}
	return exe
}

const goodPlist = `<key>CFBundleIdentifier</key><string>com.forkwatch.app</string><key>CFBundleExecutable</key><string>forkwatch</string>`

func TestBundleOf(t *testing.T) {
	good := fakeBundle(t, goodPlist, "MacOS")
	link := filepath.Join(t.TempDir(), "forkwatch")
	os.Symlink(good, link)
	for _, tc := range []struct {
		name, exe string
		want      bool
	}{
		{"in Forkwatch.app", good, true},
		{"no Info.plist", fakeBundle(t, "", "MacOS"), false},
		{"no bundle identifier", fakeBundle(t, `<key>CFBundleExecutable</key><string>forkwatch</string>`, "MacOS"), false},
		{"another executable", fakeBundle(t, `<key>CFBundleIdentifier</key><string>x</string><key>CFBundleExecutable</key><string>other</string>`, "MacOS"), false},
		{"under Resources", fakeBundle(t, goodPlist, "Resources"), false},
		{"symlink from bin", link, false},
		{"plain binary", "/usr/bin/env", false},
		{"relative", "forkwatch", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, id, ok := bundleOf(tc.exe)
			if ok != tc.want || (ok && id != "com.forkwatch.app") {
				t.Errorf("bundleOf(%s) = %q, %v; want %v", tc.exe, id, ok, tc.want)
			}
		})
	}
}

// countingLog counts warnings (things logged to the user's log file).
type countingLog struct {
	mu    sync.Mutex
	lines []string
}

func (c *countingLog) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.lines = append(c.lines, string(p))
	c.mu.Unlock()
	return len(p), nil
}
func (c *countingLog) warnings() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if strings.Contains(l, "level=WARN") {
			n++
		}
	}
	return n
}

// TestNativeDecisions: the native path is used only in a bundle, after the
// child check passed for this version, with permission; every other case
// goes through the fallback, and says why in Path.
func TestNativeDecisions(t *testing.T) {
	bundled := fakeBundle(t, goodPlist, "MacOS")
	errChild := errors.New("notify --test crashed (signal: abort trap)")
	for _, tc := range []struct {
		name       string
		exe        string
		noBackend  bool
		openErr    error
		verdicts   string // notifications.json before
		proveErr   error
		status     authStatus
		grant      bool
		setupErr   error
		wantPath   string // prefix
		wantProves int
		wantAsks   int
	}{
		{name: "not macOS", noBackend: true, exe: bundled, wantPath: "beeep: native notifications are macOS-only"},
		{name: "not in a bundle", exe: "/usr/local/bin/forkwatch", status: authAuthorized, wantPath: "beeep: not running from Forkwatch.app"},
		{name: "first run, child ok, authorized", exe: bundled, status: authAuthorized, wantPath: "native", wantProves: 1},
		{name: "child waits for permission", exe: bundled, proveErr: ErrPermissionPending, status: authAuthorized, wantPath: "beeep: waiting for permission", wantProves: 1},
		{name: "child crashed", exe: bundled, proveErr: errChild, status: authAuthorized, wantPath: "beeep: the native check failed for version v1.2.0", wantProves: 1},
		{name: "verdict ok for this version", exe: bundled, verdicts: `{"v1.2.0":{"ok":true}}`, status: authAuthorized, wantPath: "native"},
		{name: "verdict failed for this version", exe: bundled, verdicts: `{"v1.2.0":{"ok":false,"detail":"hang"}}`, status: authAuthorized, wantPath: "beeep: the native check failed for version v1.2.0 (hang)"},
		{name: "verdict only for an older version", exe: bundled, verdicts: `{"v1.1.0":{"ok":false}}`, status: authAuthorized, wantPath: "native", wantProves: 1},
		{name: "never asked, granted", exe: bundled, status: authNotDetermined, grant: true, wantPath: "native", wantProves: 1, wantAsks: 1},
		{name: "never asked, refused", exe: bundled, status: authNotDetermined, wantPath: "beeep: notifications for Forkwatch are off", wantProves: 1, wantAsks: 1},
		{name: "denied earlier", exe: bundled, status: authDenied, wantPath: "beeep: notifications for Forkwatch are off", wantProves: 1},
		{name: "provisional", exe: bundled, status: authProvisional, wantPath: "native", wantProves: 1},
		{name: "framework does not load", exe: bundled, openErr: errors.New("dlopen"), wantPath: "beeep: UserNotifications could not be loaded", wantProves: 1},
		{name: "categories fail", exe: bundled, status: authAuthorized, setupErr: errors.New("nil"), wantPath: "beeep: notification actions could not be set up", wantProves: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			support := t.TempDir()
			if tc.verdicts != "" {
				os.WriteFile(filepath.Join(support, "notifications.json"), []byte(tc.verdicts), 0o600)
			}
			fb := &fakeBackend{status: tc.status, grant: tc.grant, setupErr: tc.setupErr}
			fallback := &fakeActionNotifier{path: "beeep"}
			proves := 0
			cfg := NativeConfig{
				Exe: tc.exe, Version: "v1.2.0", SupportDir: support, Fallback: fallback,
				Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
				Backend: func() (nativeBackend, error) { return fb, tc.openErr },
				Prove:   func(context.Context) error { proves++; return tc.proveErr },
			}
			if tc.noBackend {
				cfg.Backend = nil
			}
			n := newNativeNotifier(cfg)
			if !strings.HasPrefix(n.Path(), "beeep (checking") {
				t.Errorf("path before the decision: %q", n.Path())
			}
			n.Start(context.Background())
			if !strings.HasPrefix(n.Path(), tc.wantPath) {
				t.Errorf("path %q, want %q…", n.Path(), tc.wantPath)
			}
			if proves != tc.wantProves || fb.requests != tc.wantAsks {
				t.Errorf("child checks %d (want %d), permission requests %d (want %d)", proves, tc.wantProves, fb.requests, tc.wantAsks)
			}
			if err := n.Post(Notification{Title: "T", Body: "B"}); err != nil {
				t.Fatal(err)
			}
			native := tc.wantPath == "native"
			if got := len(fb.posted) == 1; got != native {
				t.Errorf("posted natively: %v, want %v", got, native)
			}
			if got := fallback.All() != ""; got == native {
				t.Errorf("posted through the fallback: %v, want %v", got, !native)
			}
			// The verdict is recorded for this version when a check ran,
			// unless it only waited for the user.
			if tc.proveErr == ErrPermissionPending {
				if _, ok := (verdictFile{filepath.Join(support, "notifications.json")}).get("v1.2.0"); ok {
					t.Error("a verdict was recorded while the prompt was unanswered")
				}
			} else if tc.wantProves > 0 {
				v, ok := (verdictFile{filepath.Join(support, "notifications.json")}).get("v1.2.0")
				if !ok || v.OK != (tc.proveErr == nil) {
					t.Errorf("recorded verdict %+v %v", v, ok)
				}
			}
		})
	}
}

// TestNativeVerdictOncePerVersion: a failed child check is not repeated at
// the next start of the same version, and is logged once.
func TestNativeVerdictOncePerVersion(t *testing.T) {
	support := t.TempDir()
	logs := &countingLog{}
	proves := 0
	cfg := NativeConfig{
		Exe: fakeBundle(t, goodPlist, "MacOS"), Version: "v2.0.0", SupportDir: support,
		Fallback: &fakeActionNotifier{path: "beeep"}, Log: slog.New(slog.NewTextHandler(logs, nil)),
		Backend: func() (nativeBackend, error) { return &fakeBackend{status: authAuthorized}, nil },
		Prove:   func(context.Context) error { proves++; return errors.New("hang") },
	}
	for i := 0; i < 3; i++ {
		newNativeNotifier(cfg).Start(context.Background())
	}
	if proves != 1 || logs.warnings() != 1 {
		t.Errorf("3 starts: %d child checks, %d warnings; want 1 and 1", proves, logs.warnings())
	}
	cfg.Version = "v2.0.1"
	cfg.Prove = func(context.Context) error { proves++; return nil }
	n := newNativeNotifier(cfg)
	n.Start(context.Background())
	if proves != 2 || n.Path() != "native" {
		t.Errorf("new version: %d checks, path %q", proves, n.Path())
	}
}

// TestNativePostFailureFallsBack: an error from the native post delivers
// through the fallback, switches the run to it, and is logged once.
func TestNativePostFailureFallsBack(t *testing.T) {
	fb := &fakeBackend{status: authAuthorized}
	fallback := &fakeActionNotifier{path: "beeep"}
	logs := &countingLog{}
	n := newNativeNotifier(NativeConfig{
		Exe: fakeBundle(t, goodPlist, "MacOS"), Version: "v1", SupportDir: t.TempDir(), Fallback: fallback,
		Log:     slog.New(slog.NewTextHandler(logs, nil)),
		Backend: func() (nativeBackend, error) { return fb, nil },
		Prove:   func(context.Context) error { return nil },
	})
	n.Start(context.Background())
	fb.postErr = errors.New("UNErrorDomain error 1")
	for i := 0; i < 3; i++ {
		if err := n.Post(Notification{Title: fmt.Sprint("T", i), Body: "B"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Count(fallback.All(), "\n") + 1; got != 3 {
		t.Errorf("fallback got %d of 3:\n%s", got, fallback.All())
	}
	if logs.warnings() != 1 || !strings.HasPrefix(n.Path(), "beeep: posting failed") {
		t.Errorf("warnings %d, path %q", logs.warnings(), n.Path())
	}
}

// TestNativeResponses: the delegate's responses reach the handler with the
// notification they were for; dismissals and strangers' ids do not.
func TestNativeResponses(t *testing.T) {
	fb := &fakeBackend{status: authAuthorized}
	n := newNativeNotifier(NativeConfig{
		Exe: fakeBundle(t, goodPlist, "MacOS"), Version: "v1", SupportDir: t.TempDir(), Fallback: &fakeActionNotifier{path: "beeep"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Backend: func() (nativeBackend, error) { return fb, nil },
		Prove: func(context.Context) error { return nil },
	})
	var mu sync.Mutex
	var got []string
	n.OnAction(func(action string, no Notification) {
		mu.Lock()
		got = append(got, action+" "+no.ReportPath+" "+no.Fix)
		mu.Unlock()
	})
	n.Start(context.Background())
	n.Post(Notification{Title: "Python crashed", Body: "b", ReportPath: "/r/Python.ips", Fix: "use spawn"})
	id := strings.Fields(fb.posted[0])[0]
	for _, a := range []string{ActionDefault, ActionCopyFix, ActionPause, "com.apple.UNNotificationDismissActionIdentifier"} {
		fb.onRespond(id, a)
	}
	fb.onRespond("someone-else", ActionOpen)
	want := "default /r/Python.ips use spawn|copy-fix /r/Python.ips use spawn|pause-1h /r/Python.ips use spawn"
	if strings.Join(got, "|") != want {
		t.Errorf("handler got %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestProveInChild runs fake executables: success, error, crash, hang.
func TestProveInChild(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("#!/bin/sh\necho \"$@\" > "+argsFile+"\n"+body+"\n"), 0o755)
		return p
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"ok", "exit 0", ""},
		{"error", "echo 'notifications are off' >&2; exit 1", "failed (exit status 1): notifications are off"},
		{"crash", "echo '*** Terminating app due to uncaught exception' >&2; kill -ABRT $$", "crashed (signal: "},
		{"hang", "exec sleep 30", "did not finish within 300ms"},
		{"permission pending", "exit 3", "not answered in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := proveInChild(context.Background(), script(tc.name, tc.body), 300*time.Millisecond)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want …%s…", err, tc.want)
			}
			if args, _ := os.ReadFile(argsFile); strings.TrimSpace(string(args)) != "notify --test --quiet" {
				t.Errorf("child args %q", args)
			}
		})
	}
}

// TestAlerterPostsActions: a crash notification carries the report path
// and the fix to a notifier with actions.
func TestAlerterPostsActions(t *testing.T) {
	rec := &recordingPoster{}
	a := NewAlerter(rec, time.Minute, nil)
	ev := pyCrash(77)
	ev.Report.Path, ev.Report.Fix = "/Users/u/Library/Logs/DiagnosticReports/Python-2026-11-26-081100.ips", "export OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES"
	a.Event(ev)
	eventually(t, "a post", func() bool { return rec.get().Title != "" })
	if got := rec.get(); got.ReportPath != ev.Report.Path || got.Fix != ev.Report.Fix || got.Title != "Python crashed after fork()" {
		t.Errorf("posted %+v", got)
	}
}

type recordingPoster struct {
	fakeNotifier
	mu   sync.Mutex
	last Notification
}

func (r *recordingPoster) Post(n Notification) error {
	r.mu.Lock()
	r.last = n
	r.mu.Unlock()
	return nil
}
func (r *recordingPoster) get() Notification { r.mu.Lock(); defer r.mu.Unlock(); return r.last }

// TestRunNotificationAction: each action does its one thing.
func TestRunNotificationAction(t *testing.T) {
	n := Notification{Title: "t", ReportPath: "/r/Python.ips", Fix: "use spawn"}
	now := time.Now()
	for _, tc := range []struct{ action, want string }{
		{ActionOpen, "open /r/Python.ips"},
		{ActionDefault, "open /r/Python.ips"},
		{ActionCopyFix, "copy use spawn"},
		{ActionPause, ""},
	} {
		d := &fakeDesk{}
		a := NewAlerter(&fakeNotifier{}, time.Minute, nil)
		if err := RunAction(context.Background(), d, a, now, tc.action, n); err != nil {
			t.Fatal(err)
		}
		if d.log() != tc.want {
			t.Errorf("%s: desktop did %q, want %q", tc.action, d.log(), tc.want)
		}
		if paused := a.PausedUntil(); (tc.action == ActionPause) != paused.Equal(now.Add(time.Hour)) {
			t.Errorf("%s: paused until %v", tc.action, paused)
		}
	}
	if err := RunAction(context.Background(), &fakeDesk{}, nil, now, "rm -rf", n); err == nil {
		t.Error("unknown action accepted")
	}
	d := &fakeDesk{}
	RunAction(context.Background(), d, nil, now, ActionDefault, Notification{Title: "36 more"})
	if d.log() != "" {
		t.Errorf("a summary opened %q", d.log())
	}
}

// TestDBusActionsUnderXdesk posts crash notifications with actions to a
// real notification server (dunst on a throwaway X desktop,
// ../shared/tools/xdesk), has dunst invoke them as a user would (a click is
// `dunstctl action 0`; a button is picked from dunst's context menu, whose
// dmenu is a fake that chooses by action key), and checks that the report
// was opened (a fake xdg-open first on PATH), the fix copied (a fake xclip)
// and notifications paused. It runs in CI; elsewhere it skips when the
// desktop cannot start.
func TestDBusActionsUnderXdesk(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus notifications are for Linux desktops")
	}
	ci := os.Getenv("CI") != ""
	skip := func(format string, args ...any) {
		t.Helper()
		if ci {
			t.Fatalf("CI: "+format, args...)
		}
		t.Skipf(format, args...)
	}
	if testing.Short() && !ci {
		t.Skip("desktop test skipped in -short mode")
	}
	for _, tool := range []string{"Xvfb", "dunst", "dunstctl", "dbus-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("needs %s (.ci/run installs xvfb dunst dbus-x11)", tool)
		}
	}
	ds := newDunstSession(t, skip)
	d, err := NewDesktopActionNotifier(&fakeActionNotifier{path: "beeep"})
	if err != nil {
		skip("no notification server on the xdesk bus: %v", err)
	}
	if c, ok := d.(io.Closer); ok {
		t.Cleanup(func() { c.Close() })
	}
	if d.Path() != "dbus" {
		t.Fatalf("path %q: dunst should offer actions", d.Path())
	}
	if _, err := os.Stat(filepath.Join(ds.dir, "cache", "forkwatch", "icon.png")); err != nil {
		t.Errorf("icon for the notifications: %v", err)
	}
	alerter := NewAlerter(&fakeNotifier{}, time.Minute, nil)
	var mu sync.Mutex
	var acted []string
	d.OnAction(func(action string, n Notification) {
		mu.Lock()
		acted = append(acted, action+" on "+n.Title)
		mu.Unlock()
		if err := RunAction(context.Background(), desktop.New("linux"), alerter, time.Now(), action, n); err != nil {
			t.Errorf("%s: %v", action, err)
		}
	})
	ds.clickAndPick(d, alerter)
	mu.Lock()
	defer mu.Unlock()
	want := "default on Python crashed after fork() #1|copy-fix on Python crashed after fork() #2|pause-1h on Python crashed after fork() #3|open on Python crashed after fork() #4"
	if got := strings.Join(acted, "|"); got != want {
		t.Errorf("actions:\n%s\nwant\n%s", got, want)
	}
}

// dunstSession is dunst on a throwaway desktop, with fakes first on PATH:
// xdg-open and xclip record what they were given, and dunst's dmenu picks
// the action named in the pick file.
type dunstSession struct {
	t                         *testing.T
	dir, pick, opened, copied string
	report                    string
}

// newDunstSession starts the desktop (../shared/tools/xdesk, or the part
// of it this test needs when the checkout has no ../shared) and points the
// test's environment at it.
func newDunstSession(t *testing.T, skip func(string, ...any)) *dunstSession {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	bin, cfg := filepath.Join(dir, "bin"), filepath.Join(dir, "config")
	os.MkdirAll(bin, 0o755)
	os.MkdirAll(filepath.Join(cfg, "dunst"), 0o755)
	ds := &dunstSession{t: t, dir: dir, pick: filepath.Join(dir, "pick"), opened: filepath.Join(dir, "opened"), copied: filepath.Join(dir, "copied"),
		report: filepath.Join(dir, "Python-2026-11-26-081100.ips")}
	// dunst's context menu pipes lines like "#Copy Fix (Python crashed) [7,copy-fix]"
	// to dmenu and invokes the one dmenu prints.
	ds.write(filepath.Join(bin, "fake-dmenu"), "#!/bin/sh\ngrep -F -m1 \",$(cat "+ds.pick+")]\"\n", 0o755)
	ds.write(filepath.Join(cfg, "dunst", "dunstrc"), "[global]\n    dmenu = "+filepath.Join(bin, "fake-dmenu")+" -p dunst\n", 0o644)
	ds.write(filepath.Join(bin, "xdg-open"), "#!/bin/sh\nprintf '%s\\n' \"$@\" >> "+ds.opened+"\n", 0o755)
	ds.write(filepath.Join(bin, "xclip"), "#!/bin/sh\ncat > "+ds.copied+"\n", 0o755)
	ds.write(ds.report, "{}", 0o644)
	for _, line := range startDesktop(t, dir, cfg, skip) {
		if k, v, ok := strings.Cut(line, "="); ok {
			t.Setenv(k, v)
		}
	}
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	return ds
}

// startDesktop starts Xvfb, a session bus and dunst and returns the
// environment that reaches them.
func startDesktop(t *testing.T, dir, cfg string, skip func(string, ...any)) []string {
	xdesk, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "tools", "xdesk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(xdesk); err != nil {
		// A plain checkout (GitHub's runner) has no ../shared: start the
		// part of xdesk this test needs.
		env, err := ownDesktop(t, dir, cfg)
		if err != nil {
			skip("desktop: %v", err)
		}
		return env
	}
	xdir := filepath.Join(dir, "xdesk")
	xenv := append(os.Environ(), "XDESK="+xdir, fmt.Sprintf("XDESK_DISPLAY=:%d", 100+os.Getpid()%400), "XDG_CONFIG_HOME="+cfg)
	x := func(args ...string) ([]byte, error) {
		cmd := exec.Command(xdesk, args...)
		cmd.Env = xenv
		return cmd.CombinedOutput()
	}
	if out, err := x("start"); err != nil {
		skip("xdesk start: %v\n%s", err, out)
	}
	t.Cleanup(func() { x("stop") })
	envData, err := os.ReadFile(filepath.Join(xdir, "env"))
	if err != nil {
		skip("xdesk wrote no environment: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(envData)), "\n")
}

func (ds *dunstSession) write(p, s string, mode os.FileMode) {
	ds.t.Helper()
	if err := os.WriteFile(p, []byte(s), mode); err != nil {
		ds.t.Fatal(err)
	}
}

func (ds *dunstSession) read(p string) string { b, _ := os.ReadFile(p); return string(b) }

func (ds *dunstSession) dunstctl(args ...string) {
	ds.t.Helper()
	if out, err := exec.Command("dunstctl", args...).CombinedOutput(); err != nil {
		ds.t.Fatalf("dunstctl %v: %v\n%s", args, err, out)
	}
}

// displayed waits until dunst shows n notifications.
func (ds *dunstSession) displayed(n string) {
	ds.t.Helper()
	eventually(ds.t, "dunst to show "+n+" notifications", func() bool {
		out, _ := exec.Command("dunstctl", "count", "displayed").Output()
		return strings.TrimSpace(string(out)) == n
	})
}

func (ds *dunstSession) crash(title string) Notification {
	return Notification{Title: title, Body: "Python (pid 4242, parent Python 4241) was killed by the Objective-C fork-safety check.",
		ReportPath: ds.report, Fix: "export OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES"}
}

// clickAndPick acts on notifications as a user would: a click on the
// first (it opens the report), then Copy Fix, Pause for 1 Hour and Open
// Report picked from dunst's context menu, one notification each.
func (ds *dunstSession) clickAndPick(d ActionNotifier, alerter *Alerter) {
	t := ds.t
	if err := d.Post(ds.crash("Python crashed after fork() #1")); err != nil {
		t.Fatal(err)
	}
	ds.displayed("1")
	ds.dunstctl("action", "0")
	eventually(t, "xdg-open with the report", func() bool { return ds.read(ds.opened) == desktop.FileURL(ds.report)+"\n" })
	for i, step := range []struct {
		action, what string
		done         func() bool
	}{
		{ActionCopyFix, "xclip with the fix", func() bool { return ds.read(ds.copied) == "export OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES" }},
		{ActionPause, "notifications paused", func() bool { return !alerter.PausedUntil().IsZero() }},
		{ActionOpen, "the report opened again", func() bool {
			return ds.read(ds.opened) == desktop.FileURL(ds.report)+"\n"+desktop.FileURL(ds.report)+"\n"
		}},
	} {
		ds.dunstctl("close-all")
		ds.displayed("0")
		ds.write(ds.pick, step.action, 0o644)
		d.Post(ds.crash(fmt.Sprintf("Python crashed after fork() #%d", 2+i)))
		ds.displayed("1")
		ds.dunstctl("context")
		eventually(t, step.what, step.done)
	}
}

// TestAppNotifierWithoutDesktop: with no session bus (Linux) or outside a
// bundle (macOS), the app's notifier is beeep, and says so.
func TestAppNotifierWithoutDesktop(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(home, "no-bus"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := NewApp(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	// The test binary is not in a bundle: on macOS the decision is quick.
	eventually(t, "a decision", func() bool { return !strings.Contains(n.Path(), "checking") })
	if !strings.HasPrefix(n.Path(), "beeep") {
		t.Errorf("path %q", n.Path())
	}
}

// ownDesktop starts Xvfb, a session bus and dunst (configured from
// cfgHome/dunst/dunstrc), stops them when the test ends, and returns the
// DISPLAY and DBUS_SESSION_BUS_ADDRESS settings to reach them.
func ownDesktop(t *testing.T, dir, cfgHome string) ([]string, error) {
	display := fmt.Sprintf(":%d", 100+os.Getpid()%400)
	start := func(env []string, name string, args ...string) (*exec.Cmd, io.ReadCloser, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		logf, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return nil, nil, err
		}
		cmd.Stderr = logf
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, fmt.Errorf("start %s: %w", name, err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
		return cmd, out, nil
	}
	base := []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "XDG_CONFIG_HOME=" + cfgHome}
	if _, _, err := start(base, "Xvfb", display, "-screen", "0", "800x600x24", "-nolisten", "tcp"); err != nil {
		return nil, err
	}
	_, out, err := start(base, "dbus-daemon", "--session", "--nofork", "--print-address=1")
	if err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		var line []byte
		b := make([]byte, 1)
		for {
			if _, err := out.Read(b); err != nil || b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		addr <- strings.TrimSpace(string(line))
		io.Copy(io.Discard, out)
	}()
	var bus string
	select {
	case bus = <-addr:
	case <-time.After(10 * time.Second):
		return nil, errors.New("dbus-daemon printed no address")
	}
	if bus == "" {
		return nil, errors.New("dbus-daemon printed no address")
	}
	env := []string{"DISPLAY=" + display, "DBUS_SESSION_BUS_ADDRESS=" + bus}
	// Xvfb takes a moment to accept clients; dunst gives up without one.
	sock := filepath.Join("/tmp/.X11-unix", "X"+strings.TrimPrefix(display, ":"))
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, _, err := start(append(base, env...), "dunst"); err != nil {
		return nil, err
	}
	for i := 0; i < 100; i++ {
		cmd := exec.Command("dunstctl", "count", "displayed")
		cmd.Env = append(base, env...)
		if cmd.Run() == nil {
			return env, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, errors.New("dunst did not come up on the session bus")
}
