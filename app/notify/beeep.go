package notify

import (
	"fmt"
	"time"

	"github.com/forkwatch/forkwatch/assets"
	"github.com/gen2brain/beeep"
)

// beeepNotifier sends notifications with beeep: on macOS through
// terminal-notifier or osascript (beeep quotes the text with Go's %q, and
// our text has no control characters), on Linux over D-Bus. beeep's
// osascript runs `display notification`, a Standard Additions command
// osascript carries out itself: no Apple Event goes to another app, so it
// needs no apple-events entitlement (the notification is shown as coming
// from Script Editor, macos-facts.md, unverified). A notification
// that takes longer than the timeout is abandoned, never waited for.
type beeepNotifier struct {
	timeout time.Duration
}

func newBeeepNotifier() *beeepNotifier {
	beeep.AppName = "Forkwatch"
	return &beeepNotifier{timeout: 5 * time.Second}
}

// Post sends n without buttons: beeep has none.
func (b *beeepNotifier) Post(n Notification) error { return b.Notify(n.Title, n.Body) }

// OnAction does nothing: beeep reports no clicks.
func (b *beeepNotifier) OnAction(ActionHandler) {}

// Path is "beeep".
func (b *beeepNotifier) Path() string { return "beeep" }

func (b *beeepNotifier) Notify(title, body string) error {
	done := make(chan error, 1)
	go func() {
		done <- beeep.Notify(Text(title, 120), Text(body, 400), assets.IconPNG)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		return nil
	case <-time.After(b.timeout):
		return fmt.Errorf("notify: no answer after %v", b.timeout)
	}
}
