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
	"strings"
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
	err   error // what the last read could not use
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
	p.s, p.err = s, err
	p.mu.Unlock()
	return s
}

// Problems are what the last read of the profile could not use, one line
// each ("…/com.forkwatch.app.plist: ExportEndpoint: the URL has a user or
// password in it; put credentials in ExportHeaders …; ignored"), for
// `status`. No line repeats a URL's user or password (settings/managed).
func (p *Policy) Problems() []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		return nil
	}
	return strings.Split(p.err.Error(), "\n")
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

// SourceStatus is the `status --json` "managed_settings" entry: the
// FORKWATCH_MANAGED_PREFS stand-in in use, or set and ignored because a
// real profile is installed (settings/managed: a stand-in never replaces
// a real profile), and what the profile holds that could not be used.
type SourceStatus struct {
	StandIn        string   `json:"stand_in,omitempty"`
	StandInIgnored string   `json:"stand_in_ignored,omitempty"`
	Problems       []string `json:"problems,omitempty"`
}

// Source returns the managed settings' source status and the lines
// `status` prints, or nil when there is nothing to say (no stand-in set,
// nothing refused).
func (p *Policy) Source() (*SourceStatus, []string) {
	s := p.Get()
	st := SourceStatus{StandIn: s.StandIn, StandInIgnored: s.StandInIgnored, Problems: p.Problems()}
	var lines []string
	switch {
	case s.StandIn != "":
		lines = append(lines, "Managed settings: the stand-in "+s.StandIn+" ("+managed.EnvDir+") is in use, in place of "+managed.DefaultDir+"; an installed configuration profile would replace it")
	case s.StandInIgnored != "":
		lines = append(lines, "Managed settings: "+managed.EnvDir+" ("+s.StandInIgnored+") is ignored: a configuration profile is installed, and it wins")
	}
	for _, l := range st.Problems {
		lines = append(lines, "Managed settings: not used: "+l)
	}
	if len(lines) == 0 {
		return nil, nil
	}
	return &st, lines
}

// Announcer says each toggle a profile enforces once, where the user
// looks (the watch line, the app's log): an enforced toggle changes shell
// start-up files, and a newcomer saw them change with nothing said (issue
// 28). A toggle is said again only when the state enforced for it
// changes. Safe for concurrent use (the profile watcher calls it).
type Announcer struct {
	mu   sync.Mutex
	said map[string]bool
}

// Lines returns what is to be said about s's enforced toggles that has
// not been said yet: "ulimit-core is kept on: managed by your organization
// (configuration profile /Library/Managed Preferences/com.forkwatch.app.plist)".
func (a *Announcer) Lines(s managed.Settings) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.said == nil {
		a.said = map[string]bool{}
	}
	var out []string
	for _, name := range s.EnforcedToggles() {
		on, _ := s.Enforced(name)
		key := name + "=" + wording.OnOff(on)
		if a.said[key] {
			continue
		}
		a.said[key] = true
		line := fmt.Sprintf("%s is kept %s: %s", name, wording.OnOff(on), ErrManaged)
		if src := s.Source[managed.KeyEnforceToggles+"."+name]; src != "" {
			line += " (configuration profile " + src + ")"
		}
		out = append(out, line)
	}
	return out
}
