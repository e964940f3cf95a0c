package notify

// The decisions around macOS's native notifications (UNUserNotificationCenter),
// kept free of Objective-C so that they are compiled and tested on every
// platform. native_darwin.go implements nativeBackend with purego.
//
// Why a guard: the native path calls into the Objective-C runtime without
// cgo, and a mistake there (a wrong method signature, an exception such as
// "bundleProxyForCurrentProcess is nil") kills the process rather than
// returning an error. We cannot try it on our Linux machines, so the app
// first proves it in a child process (`forkwatch notify --test --quiet`), once
// per app version, and uses it in-process only after the child succeeded.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"howett.net/plist"

	"github.com/forkwatch/forkwatch/internal/atomicfile"
)

// authStatus mirrors UNAuthorizationStatus (NSInteger):
// https://developer.apple.com/documentation/usernotifications/unauthorizationstatus
type authStatus int

const (
	authNotDetermined authStatus = 0
	authDenied        authStatus = 1
	authAuthorized    authStatus = 2
	authProvisional   authStatus = 3
	authEphemeral     authStatus = 4
)

func (s authStatus) allowed() bool {
	return s == authAuthorized || s == authProvisional || s == authEphemeral
}

// nativeBackend is the small surface of UNUserNotificationCenter the app
// uses. Each method may block until the system answers (its completion
// handlers run on a background queue); ctx bounds the wait.
type nativeBackend interface {
	// Status is the app's authorization (getNotificationSettingsWithCompletionHandler:).
	Status(ctx context.Context) (authStatus, error)
	// Request asks the user once (requestAuthorizationWithOptions:completionHandler:);
	// the system shows its prompt only while the status is not determined.
	Request(ctx context.Context) (granted bool, err error)
	// Setup registers the categories with the actions and the delegate that
	// receives the user's responses: onResponse(id, action), action being
	// one of the Action constants.
	Setup(onResponse func(id, action string)) error
	// Post adds a request with the given identifier
	// (addNotificationRequest:withCompletionHandler:).
	Post(ctx context.Context, id string, n Notification) error
}

// bundleOf returns the .app folder exe runs from and its bundle identifier,
// or ok=false. UNUserNotificationCenter needs a bundle: outside one,
// +currentNotificationCenter raises NSInternalInconsistencyException
// ("bundleProxyForCurrentProcess is nil"), which aborts the process
// (lucasmaurice/timetracker#10, openclaw/openclaw#123123, pyobjc#270); on
// macOS 26 the executable must also sit in Contents/MacOS, not Resources
// (stablyai/orca#7929).
func bundleOf(exe string) (app, id string, ok bool) {
	// The path as the process was started, not resolved: a symlink into the
	// bundle (Homebrew's `binary` stanza) may not make the system find the
	// bundle, so only an executable started from inside it counts.
	if exe == "" || !filepath.IsAbs(exe) {
		return "", "", false
	}
	exe = filepath.Clean(exe)
	if fi, err := os.Stat(exe); err != nil || !fi.Mode().IsRegular() {
		return "", "", false
	}
	macos := filepath.Dir(exe)
	contents := filepath.Dir(macos)
	app = filepath.Dir(contents)
	if filepath.Base(macos) != "MacOS" || filepath.Base(contents) != "Contents" || !strings.HasSuffix(app, ".app") {
		return "", "", false
	}
	data, err := os.ReadFile(filepath.Join(contents, "Info.plist"))
	if err != nil || len(data) > 1<<20 {
		return "", "", false
	}
	var info struct {
		ID         string `plist:"CFBundleIdentifier"`
		Executable string `plist:"CFBundleExecutable"`
	}
	if _, err := plist.Unmarshal(data, &info); err != nil || info.ID == "" {
		return "", "", false
	}
	if info.Executable != "" && info.Executable != filepath.Base(exe) {
		return "", "", false
	}
	return app, info.ID, true
}

// nativeVerdict is what the child proof found for one app version.
type nativeVerdict struct {
	OK     bool      `json:"ok"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// verdictFile keeps one verdict per app version in the support folder, so
// an update proves the native path again and a failure is not retried
// (and not logged) at every start.
type verdictFile struct{ path string }

func (v verdictFile) load() map[string]nativeVerdict {
	m := map[string]nativeVerdict{}
	data, err := os.ReadFile(v.path)
	if err != nil || len(data) > 1<<20 {
		return m
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return map[string]nativeVerdict{}
	}
	return m
}

func (v verdictFile) get(version string) (nativeVerdict, bool) {
	got, ok := v.load()[version]
	return got, ok
}

// put records the verdict for version, keeping the few latest versions.
func (v verdictFile) put(version string, verdict nativeVerdict) error {
	m := v.load()
	m[version] = verdict
	for len(m) > 8 {
		oldest := ""
		for k, x := range m {
			if k != version && (oldest == "" || x.At.Before(m[oldest].At)) {
				oldest = k
			}
		}
		delete(m, oldest)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(v.path), 0o700); err != nil {
		return fmt.Errorf("record notification check: %w", err)
	}
	if err := atomicfile.WriteAtomic(v.path, data, 0o600); err != nil {
		return fmt.Errorf("record notification check: %w", err)
	}
	return nil
}

// proveInChild runs `exe notify --test --quiet` and succeeds only if it
// exits 0 within timeout. A crash (an uncaught Objective-C exception is an
// abort), a hang and an error all come back as an error naming what
// happened, with the child's last words.
func proveInChild(ctx context.Context, exe string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "notify", "--test", "--quiet")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	last := strings.TrimSpace(out.String())
	if len(last) > 300 {
		last = "…" + last[len(last)-300:]
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.Exited() && ee.ExitCode() == ExitPermissionPending:
		return fmt.Errorf("%w: %s", ErrPermissionPending, last)
	case errors.As(err, &ee) && ee.Exited() && ee.ExitCode() == ExitPermissionDenied:
		return fmt.Errorf("%w: %s", ErrPermissionDenied, last)
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("notify --test did not finish within %v (a hang, or the permission prompt left unanswered): %s", timeout, last)
	case err != nil:
		if errors.As(err, &ee) && !ee.Exited() {
			return fmt.Errorf("notify --test crashed (%v): %s", ee, last)
		}
		return fmt.Errorf("notify --test failed (%v): %s", err, last)
	}
	return nil
}

// NativeConfig is what the native notifier's decisions depend on; tests
// replace each piece.
type NativeConfig struct {
	Exe        string
	Version    string
	SupportDir string
	// Backend opens the Objective-C side; nil where there is none (not macOS).
	Backend func() (nativeBackend, error)
	// Prove runs the child check (proveInChild in the app).
	Prove func(ctx context.Context) error
	// Fallback delivers when the native path cannot (beeep).
	Fallback ActionNotifier
	Log      *slog.Logger
	// Wait bounds each wait for the system (permission, posting).
	Wait time.Duration
}

// nativeNotifier delivers through UNUserNotificationCenter once Start has
// decided that it may, and through the fallback until then and whenever
// native delivery fails. Which one is in use is in Path.
type nativeNotifier struct {
	cfg NativeConfig

	mu       sync.Mutex
	backend  nativeBackend // non-nil once the native path is in use
	path     string
	handler  ActionHandler
	sent     map[string]Notification // identifier -> notification, for responses
	order    []string
	seq      int
	errorLog sync.Once
}

func newNativeNotifier(cfg NativeConfig) *nativeNotifier {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Wait == 0 {
		cfg.Wait = 10 * time.Second
	}
	return &nativeNotifier{cfg: cfg, path: cfg.Fallback.Path() + " (checking native notifications)", sent: map[string]Notification{}}
}

// Path says which way notifications go and, for a fallback, why.
func (n *nativeNotifier) Path() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.path
}

// OnAction sets the handler for both paths (beeep has no actions).
func (n *nativeNotifier) OnAction(h ActionHandler) {
	n.mu.Lock()
	n.handler = h
	n.mu.Unlock()
	n.cfg.Fallback.OnAction(h)
}

// fallBack switches to the fallback for the rest of this run and logs why,
// once (decisions are made once per run; post errors log only the first).
func (n *nativeNotifier) fallBack(reason string, err error) {
	n.mu.Lock()
	n.backend = nil
	n.path = n.cfg.Fallback.Path() + ": " + reason
	n.mu.Unlock()
	if err != nil {
		n.cfg.Log.Warn("native notifications unavailable, using "+n.cfg.Fallback.Path(), "reason", reason, "err", err)
	} else {
		n.cfg.Log.Info("native notifications unavailable, using "+n.cfg.Fallback.Path(), "reason", reason)
	}
}

// Start decides, once, whether to use the native path; it returns when the
// decision is made (the child check and the permission prompt can take
// minutes, so the app calls it in a goroutine; notifications go through the
// fallback meanwhile). The order: a backend at all (macOS), a bundle, this
// version's verdict (proving it in a child first if there is none), the
// backend opening, the categories and delegate, the permission.
func (n *nativeNotifier) Start(ctx context.Context) {
	if n.cfg.Backend == nil {
		n.fallBack("native notifications are macOS-only", nil)
		return
	}
	if _, _, ok := bundleOf(n.cfg.Exe); !ok {
		n.fallBack("not running from Forkwatch.app (native notifications need an app bundle)", nil)
		return
	}
	vf := verdictFile{filepath.Join(n.cfg.SupportDir, "notifications.json")}
	verdict, known := vf.get(n.cfg.Version)
	if known && !verdict.OK && strings.Contains(verdict.Detail, deniedText) {
		// An earlier version saved "Don't Allow" as a failed check; a
		// denial is a state the user can change: check again.
		known = false
	}
	if !known {
		err := n.cfg.Prove(ctx)
		if ctx.Err() != nil {
			return // shutting down: decide next time
		}
		if errors.Is(err, ErrPermissionPending) {
			// Nothing failed: the user has not answered the prompt yet.
			// No verdict, so the next start checks again.
			n.fallBack("waiting for permission to notify (asked; checked again at the next start)", nil)
			return
		}
		if errors.Is(err, ErrPermissionDenied) {
			// "Don't Allow" (now or in System Settings) is the user's
			// choice, not a defect of this version: no verdict, so the
			// next start reads the permission again and goes native as
			// soon as it is allowed.
			n.fallBack(deniedText+" (read again at each start)", nil)
			return
		}
		verdict = nativeVerdict{OK: err == nil, At: time.Now()}
		if err != nil {
			verdict.Detail = err.Error()
		}
		if perr := vf.put(n.cfg.Version, verdict); perr != nil {
			n.cfg.Log.Warn("notifications", "err", perr)
		}
		if err != nil {
			n.fallBack("the native check failed for version "+n.cfg.Version, err)
			return
		}
	} else if !verdict.OK {
		// Logged when it was recorded; say it at Info level only.
		n.fallBack("the native check failed for version "+n.cfg.Version+" ("+verdict.Detail+"); run `forkwatch notify --test` to check again", nil)
		return
	}
	b, err := n.cfg.Backend()
	if err != nil {
		n.fallBack("UserNotifications could not be loaded", err)
		return
	}
	if err := b.Setup(n.respond); err != nil {
		n.fallBack("notification actions could not be set up", err)
		return
	}
	st, err := authorize(ctx, b, n.cfg.Wait)
	switch {
	case err != nil:
		n.fallBack("asking for permission failed", err)
		return
	case !st.allowed():
		n.fallBack(deniedText+" (read again at each start)", nil)
		return
	}
	n.mu.Lock()
	n.backend, n.path = b, "native"
	n.mu.Unlock()
	n.cfg.Log.Info("notifications: native (UNUserNotificationCenter)")
}

// authorize reads the permission and asks for it if the user was never
// asked: the prompt appears once per app; after that the answer is read.
// The first wait is for a person, so it is long.
func authorize(ctx context.Context, b nativeBackend, wait time.Duration) (authStatus, error) {
	sctx, cancel := context.WithTimeout(ctx, wait)
	st, err := b.Status(sctx)
	cancel()
	if err != nil || st != authNotDetermined {
		return st, err
	}
	rctx, cancel := context.WithTimeout(ctx, 30*wait)
	defer cancel()
	granted, err := b.Request(rctx)
	if err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			return authNotDetermined, fmt.Errorf("%w: %v", ErrPermissionPending, err)
		}
		return authNotDetermined, err
	}
	if granted {
		return authAuthorized, nil
	}
	return authDenied, nil
}

// Notify posts a notification without actions.
func (n *nativeNotifier) Notify(title, body string) error {
	return n.Post(Notification{Title: title, Body: body})
}

// Post delivers natively if the native path is in use, else through the
// fallback. A native failure switches this run to the fallback (logged
// once) and delivers the same notification there.
func (n *nativeNotifier) Post(no Notification) error {
	no.Title, no.Body = Text(no.Title, 120), Text(no.Body, 400)
	n.mu.Lock()
	b := n.backend
	n.seq++
	id := fmt.Sprintf("forkwatch-%d-%d", time.Now().UnixNano(), n.seq)
	if b != nil {
		n.sent[id] = no
		n.order = append(n.order, id)
		if len(n.order) > 200 {
			delete(n.sent, n.order[0])
			n.order = n.order[1:]
		}
	}
	n.mu.Unlock()
	if b == nil {
		return n.cfg.Fallback.Post(no)
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.Wait)
	defer cancel()
	if err := b.Post(ctx, id, no); err != nil {
		n.errorLog.Do(func() { n.fallBack("posting failed", err) })
		return n.cfg.Fallback.Post(no)
	}
	return nil
}

// respond maps a response from the delegate to the handler: the
// notification it was for (looked up by identifier) and the action.
// Dismissals and unknown identifiers are dropped.
func (n *nativeNotifier) respond(id, action string) {
	n.mu.Lock()
	no, ok := n.sent[id]
	h := n.handler
	n.mu.Unlock()
	if !ok || h == nil {
		return
	}
	switch action {
	case ActionOpen, ActionCopyFix, ActionPause, ActionDefault:
		h(action, no)
	}
}

// loadFrameworks loads each framework in order with open (dlopen on
// macOS, called from init: see native_darwin.go) and stops at the
// first that fails, naming it.
func loadFrameworks(open func(path string) error, paths ...string) error {
	for _, p := range paths {
		if err := open(p); err != nil {
			return fmt.Errorf("load %s: %w", p, err)
		}
	}
	return nil
}

// ErrNotBundled is returned by `notify --test` outside an app bundle.
var ErrNotBundled = errors.New("not running from an app bundle")

// ErrPermissionPending means the permission prompt is up and unanswered:
// not a failure of the native path, so no verdict is recorded. The child
// reports it with exit code ExitPermissionPending.
var ErrPermissionPending = errors.New("the permission prompt was not answered in time")

const ExitPermissionPending = 3

// ErrPermissionDenied means the user has not allowed notifications (the
// prompt's "Don't Allow", or switched off in System Settings): a state the
// user can change at any time, not a failure of the native path, so no
// verdict is recorded and each start reads it again. The child reports it
// with exit code ExitPermissionDenied.
var ErrPermissionDenied = errors.New(deniedText)

const ExitPermissionDenied = 4

// deniedText says where the user allows notifications.
const deniedText = "notifications for Forkwatch are off in System Settings → Notifications"

// NativeTest is `forkwatch notify --test` on the native path, without the
// guard (it is the guard's child): bundle, backend, permission, categories,
// one notification. It records the verdict for this version, so that a
// user can re-check after a failure.
func NativeTest(ctx context.Context, cfg NativeConfig, n Notification) error {
	if cfg.Backend == nil {
		return errors.New("native notifications are macOS-only")
	}
	if _, _, ok := bundleOf(cfg.Exe); !ok {
		return ErrNotBundled
	}
	if cfg.Wait == 0 {
		cfg.Wait = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	// Each step is logged (at Info), so that a crash or a hang on a Mac
	// shows how far it got.
	step := func(msg string, args ...any) { cfg.Log.Info("notify test: "+msg, args...) }
	err := func() error {
		b, err := cfg.Backend()
		if err != nil {
			return err
		}
		step("UserNotifications loaded")
		if err := b.Setup(func(string, string) {}); err != nil {
			return err
		}
		step("categories and delegate set")
		st, err := authorize(ctx, b, cfg.Wait)
		if err != nil {
			return err
		}
		step("permission", "status", int(st))
		if !st.allowed() {
			return ErrPermissionDenied
		}
		pctx, cancel := context.WithTimeout(ctx, cfg.Wait)
		defer cancel()
		if err := b.Post(pctx, fmt.Sprintf("forkwatch-test-%d", time.Now().UnixNano()), n); err != nil {
			return err
		}
		step("posted")
		return nil
	}()
	verdict := nativeVerdict{OK: err == nil, At: time.Now()}
	if err != nil {
		verdict.Detail = err.Error()
	}
	if cfg.SupportDir != "" && !errors.Is(err, ErrPermissionPending) && !errors.Is(err, ErrPermissionDenied) {
		if perr := (verdictFile{filepath.Join(cfg.SupportDir, "notifications.json")}).put(cfg.Version, verdict); perr != nil && !errors.Is(perr, fs.ErrPermission) {
			cfg.Log.Warn("notifications", "err", perr)
		}
	}
	return err
}
