package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// Managed settings: what a Mac admin's configuration profile decides
// (settings/managed reads it). This file holds all of the app's side of it,
// as plain functions, so that the command dispatcher can change freely.

// ManagedReason is what the menu, `status` and `set` say about a toggle a
// profile enforces.
const ManagedReason = "Managed by your organization"

// errManaged is returned by `set` and the menu for an enforced toggle.
var errManaged = errors.New("managed by your organization")

// policy holds the domain as it applies now; the profile watcher replaces
// it. Safe for concurrent use.
type policy struct {
	paths managed.Paths
	mu    sync.Mutex
	s     managed.Settings
}

// loadPolicy reads the domain (problems are logged: a malformed profile
// never stops Forkwatch, and what could be read applies).
func loadPolicy(log *slog.Logger) *policy {
	p := &policy{paths: managed.DefaultPaths(settings.DefaultEnv().Home)}
	p.reload(log)
	return p
}

// reload reads the files again.
func (p *policy) reload(log *slog.Logger) managed.Settings {
	s, err := managed.Load(p.paths)
	if err != nil && log != nil {
		log.Warn("managed preferences", "err", err)
	}
	p.mu.Lock()
	p.s = s
	p.mu.Unlock()
	return s
}

// get returns the settings now.
func (p *policy) get() managed.Settings {
	if p == nil {
		return managed.Settings{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.s
}

// watch reloads on every change of the profile's files and calls onChange
// with the new settings, until ctx is done.
func (p *policy) watch(ctx context.Context, log *slog.Logger, onChange func(managed.Settings)) {
	err := managed.Watch(ctx, p.paths, log, func() {
		onChange(p.reload(log))
	})
	if err != nil {
		log.Warn("managed preferences: not watched", "err", err)
	}
}

// refuseManaged returns errManaged, with the profile's file, when a profile
// enforces the toggle.
func refuseManaged(s managed.Settings, name string) error {
	on, ok := s.Enforced(name)
	if !ok {
		return nil
	}
	return fmt.Errorf("%s is %w (a configuration profile keeps it %s: %s)", name, errManaged, onOffWord(on), s.Source[managed.KeyEnforceToggles+"."+name])
}

// applyEnforced turns each enforced toggle to the profile's state, where
// the system shows another, and records the change. It runs at start and
// after each profile change; a toggle that fails is logged and left as it
// is (the next change or start tries again).
func applyEnforced(ctx context.Context, env settings.Env, s managed.Settings, support string, db *history.DB, log *slog.Logger) []error {
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
			errs = append(errs, fmt.Errorf("enforce %s %s: %w", t.Name(), onOffWord(want), err))
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

// toggleStatus is one toggle in `status --json`: its state read from the
// system, and whether a profile enforces it.
type toggleStatus struct {
	settings.State
	Managed bool `json:"managed"`
	// Enforced is the state the profile keeps (only when managed).
	Enforced *bool `json:"enforced,omitempty"`
}

func newToggleStatus(st settings.State, s managed.Settings, name string) toggleStatus {
	ts := toggleStatus{State: st}
	if on, ok := s.Enforced(name); ok {
		ts.Managed, ts.Enforced = true, &on
	}
	return ts
}

// forkTracingRefused says why fork tracing cannot be turned on, or nil.
func forkTracingRefused(s managed.Settings) error {
	if s.ForkTracingAllowed() {
		return nil
	}
	return fmt.Errorf("fork tracing is turned off: %s (%s is false in %s)", ManagedReason, managed.KeyAllowForkTracing, s.Source[managed.KeyAllowForkTracing])
}

// startManaged reads the managed settings, applies the enforced toggles,
// starts the exporter when an endpoint is set, and watches the profile:
// on each change the toggles are enforced again, the exporter follows the
// endpoint, and onChange (may be nil) runs. The returned runner is stopped
// by the caller.
func startManaged(ctx context.Context, env settings.Env, db *history.DB, maxBackoff time.Duration, log *slog.Logger, onChange func()) (*policy, *exportRunner) {
	pol := loadPolicy(log)
	applyEnforced(ctx, env, pol.get(), supportDir(), db, log)
	exp := newExportRunner(ctx, db, pol.get(), maxBackoff, log)
	go pol.watch(ctx, log, func(s managed.Settings) {
		applyEnforced(ctx, env, s, supportDir(), db, log)
		exp.apply(s)
		if onChange != nil {
			onChange()
		}
	})
	return pol, exp
}

// exportStatus is the `status --json` "export" entry.
type exportStatus struct {
	Endpoint string    `json:"endpoint,omitempty"`
	Managed  bool      `json:"managed,omitempty"`
	Redact   string    `json:"redact,omitempty"`
	Pending  int       `json:"pending"`
	Sent     int       `json:"sent_kept"`
	Oldest   time.Time `json:"oldest_pending,omitzero"`
	Line     string    `json:"-"`
}

// exportStatusOf reads the outbox of the history database (read-only), or
// returns nil when export is off and nothing is queued.
func exportStatusOf(ctx context.Context, s managed.Settings) *exportStatus {
	var st history.OutboxStats
	var rd *history.Reader
	if r, err := history.OpenReader(historyDBPath(), time.Local); err == nil {
		defer r.Close()
		rd = r
		st, _ = r.OutboxStats(ctx)
	}
	line := exportLine(ctx, s.ExportEndpoint, rd)
	if line == "" {
		return nil
	}
	ex := &exportStatus{Endpoint: s.ExportEndpoint, Managed: s.Managed[managed.KeyExportEndpoint], Pending: st.Pending, Sent: st.Sent, Oldest: st.Oldest, Line: line}
	if s.ExportEndpoint != "" {
		ex.Redact = s.Redact.String()
	}
	return ex
}
