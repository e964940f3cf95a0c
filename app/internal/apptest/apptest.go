// Package apptest holds what the test packages of app/ share, so that each
// does not keep its own copy: waiting for a condition with one generous
// bound, and a notifier that records what it was asked to show. Only tests
// import it.
package apptest

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// Bound is how long Eventually waits: generous, so that a loaded machine
// (the suite runs beside other builds) slows a test without failing it; a
// condition that holds returns at once.
const Bound = 30 * time.Second

// Eventually polls cond every 20 ms until it holds, and fails the test
// after Bound, naming what it waited for.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(Bound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Notifier records each notification as "title | body"; safe for use from
// several goroutines.
type Notifier struct {
	mu   sync.Mutex
	sent []string
}

// Notify records a notification; it never fails.
func (n *Notifier) Notify(title, body string) error {
	n.mu.Lock()
	n.sent = append(n.sent, title+" | "+body)
	n.mu.Unlock()
	return nil
}

// All is every notification so far, one a line.
func (n *Notifier) All() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.sent, "\n")
}
