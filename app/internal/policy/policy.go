// Package policy is the app's side of managed settings (what a Mac
// admin's configuration profile decides; settings/managed reads the files):
// the profile as it applies now, followed as it changes; the refusal of a
// change to an enforced toggle, worded the same in the menu, `set` and
// `status`; and the enforcement of the profile's toggles. The menu, the
// commands and the background work of `watch` all use it, so it sits below
// them.
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// ManagedReason is what the menu, `status` and `set` say about a toggle a
// profile enforces.
const ManagedReason = "Managed by your organization"

// ErrManaged is returned by `set` and the menu for an enforced toggle.
var ErrManaged = errors.New("managed by your organization")

// Policy holds the domain as it applies now; the profile watcher replaces
// it. Safe for concurrent use.
type Policy struct {
	paths managed.Paths
	mu    sync.Mutex
	s     managed.Settings
}

// Load reads the domain (problems are logged: a malformed profile
// never stops Forkwatch, and what could be read applies).
func Load(log *slog.Logger) *Policy {
	p := &Policy{paths: managed.DefaultPaths(settings.DefaultEnv().Home)}
	p.Reload(log)
	return p
}

// Reload reads the files again.
func (p *Policy) Reload(log *slog.Logger) managed.Settings {
	s, err := managed.Load(p.paths)
	if err != nil && log != nil {
		log.Warn("managed preferences", "err", err)
	}
	p.mu.Lock()
	p.s = s
	p.mu.Unlock()
	return s
}

// Get returns the settings now.
func (p *Policy) Get() managed.Settings {
	if p == nil {
		return managed.Settings{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.s
}

// Watch reloads on every change of the profile's files and calls onChange
// with the new settings, until ctx is done.
func (p *Policy) Watch(ctx context.Context, log *slog.Logger, onChange func(managed.Settings)) {
	err := managed.Watch(ctx, p.paths, log, func() {
		onChange(p.Reload(log))
	})
	if err != nil {
		log.Warn("managed preferences: not watched", "err", err)
	}
}

// Refuse returns ErrManaged, with the profile's file, when a profile
// enforces the toggle.
func Refuse(s managed.Settings, name string) error {
	on, ok := s.Enforced(name)
	if !ok {
		return nil
	}
	return fmt.Errorf("%s is %w (a configuration profile keeps it %s: %s)", name, ErrManaged, wording.OnOff(on), s.Source[managed.KeyEnforceToggles+"."+name])
}

// ApplyEnforced turns each enforced toggle to the profile's state, where
// the system shows another, and records the change. It runs at start and
// after each profile change; a toggle that fails is logged and left as it
// is (the next change or start tries again).
func ApplyEnforced(ctx context.Context, env settings.Env, s managed.Settings, support string, db *history.DB, log *slog.Logger) []error {
	if len(s.EnforceToggles) == 0 {
		return nil
	}
	var errs []error
	for _, t := range settings.All(env) {
		want, ok := s.Enforced(t.Name())
		if !ok {
			continue
		}
		if st := t.State(ctx); st.Error == "" && st.On == want {
			continue
		}
		err := env.MkdirRecorded(support)
		var st settings.State
		if err == nil {
			var unlock func()
			if unlock, err = settings.Lock(support); err == nil {
				st, err = settings.SetAndVerify(ctx, t, want)
				unlock()
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("enforce %s %s: %w", t.Name(), wording.OnOff(want), err))
			log.Warn("managed preferences: enforce", "toggle", t.Name(), "on", want, "err", err)
			continue
		}
		log.Info("managed preferences: enforced", "toggle", t.Name(), "on", want)
		if db != nil {
			if herr := db.RecordToggle(t.Name(), st.On, "enforced by a configuration profile; "+st.Detail, time.Now()); herr != nil {
				log.Warn("history: record toggle", "err", herr)
			}
		}
	}
	return errs
}

// ToggleStatus is one toggle in `status --json`: its state read from the
// system, and whether a profile enforces it.
type ToggleStatus struct {
	settings.State
	// Available is false for a toggle this system does not have (the
	// macOS-only ones elsewhere), with the reason; its "on" is then not a
	// state read from the system.
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	Managed   bool   `json:"managed"`
	// Enforced is the state the profile keeps (only when managed).
	Enforced *bool `json:"enforced,omitempty"`
}

func NewToggleStatus(st settings.State, s managed.Settings, name string) ToggleStatus {
	ts := ToggleStatus{State: st, Available: true}
	if on, ok := s.Enforced(name); ok {
		ts.Managed, ts.Enforced = true, &on
	}
	return ts
}

// ForkTracingRefused says why fork tracing cannot be turned on, or nil.
func ForkTracingRefused(s managed.Settings) error {
	if s.ForkTracingAllowed() {
		return nil
	}
	return fmt.Errorf("fork tracing is turned off: %s (%s is false in %s)", ManagedReason, managed.KeyAllowForkTracing, s.Source[managed.KeyAllowForkTracing])
}
