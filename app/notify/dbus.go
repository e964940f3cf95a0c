//go:build !darwin

package notify

// Notifications with actions on Linux desktops, over D-Bus: the Desktop
// Notifications Specification (specifications.freedesktop.org/notification-spec):
// org.freedesktop.Notifications.Notify(app_name s, replaces_id u, app_icon s,
// summary s, body s, actions as, hints a{sv}, expire_timeout i) -> u, where
// actions alternate key and label and the key "default" is a click on the
// notification; the server emits ActionInvoked(id u, action_key s) to the
// sender when the user picks one, and NotificationClosed(id u, reason u).

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/forkwatch/forkwatch/assets"
	"github.com/forkwatch/forkwatch/internal/atomicfile"
)

const (
	fdoNotifications = "org.freedesktop.Notifications"
	fdoPath          = "/org/freedesktop/Notifications"
)

// platformNotifier off macOS: D-Bus with actions where a session bus and a
// notification server answer, else the fallback (beeep).
func platformNotifier(ctx context.Context, cfg NativeConfig) ActionNotifier {
	d, err := newDBusNotifier(cfg.Fallback)
	if err != nil {
		cfg.Log.Info("notifications without actions", "reason", err)
		return cfg.Fallback
	}
	go func() {
		<-ctx.Done()
		d.Close()
	}()
	return d
}

// nativeBackendFunc: there is no UNUserNotificationCenter here.
func nativeBackendFunc() func() (nativeBackend, error) { return nil }

// NewDesktopActionNotifier connects to the session bus's notification server.
func NewDesktopActionNotifier(fallback ActionNotifier) (ActionNotifier, error) {
	return newDBusNotifier(fallback)
}

// dbusNotifier posts over its own session-bus connection and turns
// ActionInvoked signals for its notifications into ActionHandler calls.
type dbusNotifier struct {
	conn     *dbus.Conn
	obj      dbus.BusObject
	actions  bool   // the server has the "actions" capability
	markup   bool   // the server has "body-markup": the body is XML-ish markup
	icon     string // app_icon: our icon's file, or a theme icon name
	fallback ActionNotifier
	signals  chan *dbus.Signal

	mu      sync.Mutex
	handler ActionHandler
	sent    map[uint32]Notification
	order   []uint32
}

func newDBusNotifier(fallback ActionNotifier) (*dbusNotifier, error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("session bus: %w", err)
	}
	d := &dbusNotifier{conn: conn, obj: conn.Object(fdoNotifications, fdoPath), fallback: fallback,
		signals: make(chan *dbus.Signal, 16), sent: map[uint32]Notification{}, icon: iconFile()}
	var caps []string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.obj.CallWithContext(ctx, fdoNotifications+".GetCapabilities", 0).Store(&caps); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notification server: %w", err)
	}
	d.actions = slices.Contains(caps, "actions")
	d.markup = slices.Contains(caps, "body-markup")
	for _, member := range []string{"ActionInvoked", "NotificationClosed"} {
		if err := conn.AddMatchSignal(dbus.WithMatchInterface(fdoNotifications), dbus.WithMatchMember(member), dbus.WithMatchObjectPath(fdoPath)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("watch %s: %w", member, err)
		}
	}
	conn.Signal(d.signals)
	go d.loop()
	return d, nil
}

// Close ends the connection; the signal loop ends with it.
func (d *dbusNotifier) Close() error { return d.conn.Close() }

// Path is "dbus" (with actions) or says the server has none.
func (d *dbusNotifier) Path() string {
	if d.actions {
		return "dbus"
	}
	return "dbus (the notification server shows no actions)"
}

func (d *dbusNotifier) OnAction(h ActionHandler) {
	d.mu.Lock()
	d.handler = h
	d.mu.Unlock()
}

func (d *dbusNotifier) Notify(title, body string) error {
	return d.Post(Notification{Title: title, Body: body})
}

// Post sends n with its buttons and a default action (a click opens the
// report). A server that does not answer within 5 s gets the notification
// through the fallback instead.
func (d *dbusNotifier) Post(n Notification) error {
	title, body := Text(n.Title, 120), dbusBody(Text(n.Body, 400), d.markup)
	var actions []string
	if d.actions {
		if n.ReportPath != "" {
			actions = append(actions, ActionDefault, "Open Report")
		}
		for _, a := range actionsFor(n) {
			actions = append(actions, a[0], a[1])
		}
	}
	hints := map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant("forkwatch")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Holding mu across the call keeps an ActionInvoked for this id (handled
	// in loop, which takes mu) from arriving before the id is recorded.
	d.mu.Lock()
	defer d.mu.Unlock()
	var id uint32
	err := d.obj.CallWithContext(ctx, fdoNotifications+".Notify", 0, "Forkwatch", uint32(0), d.icon, title, body, actions, hints, int32(-1)).Store(&id)
	if err != nil {
		if ferr := d.fallback.Post(n); ferr != nil {
			return fmt.Errorf("notify over D-Bus: %w (fallback: %v)", err, ferr)
		}
		return nil
	}
	d.sent[id] = n
	d.order = append(d.order, id)
	if len(d.order) > 200 {
		delete(d.sent, d.order[0])
		d.order = d.order[1:]
	}
	return nil
}

// dbusBody is the body as the server reads it. A server with the
// "body-markup" capability parses the body as a small XML-based markup
// (<b>, <i>, <a href>, <img src>: "Markup" in the Desktop Notifications
// Specification, specifications.freedesktop.org/notification/latest), so
// a process name like "<a href=...>" or "<img src=/x>" from a report
// would become a link or fetch a file: escape &, <, >, ' and ". The
// summary is plain text for every server and stays as it is.
func dbusBody(body string, markup bool) string {
	if !markup {
		return body
	}
	return html.EscapeString(body)
}

// loop handles the server's signals until the connection closes.
func (d *dbusNotifier) loop() {
	for sig := range d.signals {
		if sig == nil || len(sig.Body) < 2 {
			continue
		}
		id, ok := sig.Body[0].(uint32)
		if !ok {
			continue
		}
		switch sig.Name {
		case fdoNotifications + ".ActionInvoked":
			action, _ := sig.Body[1].(string)
			d.mu.Lock()
			n, known := d.sent[id]
			h := d.handler
			d.mu.Unlock()
			if known && h != nil {
				switch action {
				case ActionOpen, ActionCopyFix, ActionPause, ActionDefault:
					go h(action, n)
				default:
					slog.Debug("unknown notification action", "action", action)
				}
			}
		case fdoNotifications + ".NotificationClosed":
			d.mu.Lock()
			delete(d.sent, id)
			d.mu.Unlock()
		}
	}
}

// iconFile writes the app icon to the user's cache folder once (the
// specification takes app_icon as a file path or a theme icon name) and
// returns its path, or a theme icon when it cannot be written.
func iconFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "dialog-warning"
	}
	p := filepath.Join(dir, "forkwatch", "icon.png")
	if b, err := os.ReadFile(p); err == nil && string(b) == string(assets.IconPNG) {
		return p
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "dialog-warning"
	}
	if err := atomicfile.WriteAtomic(p, assets.IconPNG, 0o644); err != nil {
		return "dialog-warning"
	}
	return p
}
