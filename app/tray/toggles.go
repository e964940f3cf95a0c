package tray

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// toggleSwitch reads and sets the mitigations for the menu's toggles (the
// Toggles of MenuState, in the same order): the slow work, a password
// prompt may be open for minutes, runs off the loop.
type toggleSwitch struct {
	env     settings.Env
	all     []settings.Toggle // in menu order, as MenuState.Toggles
	support string
	history *history.DB // where a verified change is recorded (may be nil)
	log     *slog.Logger
	busy    map[string]bool // toggles being changed (a prompt may be open)
}

// states reads every toggle's state from the system.
func (s *toggleSwitch) states(ctx context.Context) []settings.State {
	states := make([]settings.State, len(s.all))
	for i, t := range s.all {
		if err := s.env.Supported(t.Name()); err != nil {
			// Not read: the commands it needs are not here (as `status`).
			states[i] = settings.State{Detail: err.Error()}
			continue
		}
		states[i] = t.State(ctx)
	}
	return states
}

// index is the position of the toggle named name, or -1.
func (s *toggleSwitch) index(name string) int {
	for i, t := range s.all {
		if t.Name() == name {
			return i
		}
	}
	return -1
}

// set turns t on or off under the settings lock, reads the state back, and
// records a verified change in the history as `set` does.
func (s *toggleSwitch) set(ctx context.Context, t settings.Toggle, want bool, now time.Time) (settings.State, error) {
	var st settings.State
	err := s.env.MkdirRecorded(s.support)
	if err == nil {
		var unlock func()
		if unlock, err = settings.Lock(s.support); err == nil {
			st, err = settings.SetAndVerify(ctx, t, want)
			unlock()
		}
	}
	if s.history != nil && st.Error == "" && st.On == want {
		if herr := s.history.RecordToggle(t.Name(), st.On, st.Detail, now); herr != nil {
			s.log.Warn("history: record toggle", "err", herr)
		}
	}
	return st, err
}

// translocatedTitle is what the login item says when this copy runs from
// an App Translocation path, which must never be registered (see
// settings.ErrTranslocated).
const translocatedTitle = "Move Forkwatch to Applications first"

// isTranslocated: the state says this copy runs translocated.
func isTranslocated(st settings.State) bool {
	return slices.Contains(st.Conflicts, settings.ErrTranslocated.Error())
}

// failTitle is the notification's title when turning t on or off failed.
func failTitle(t settings.Toggle, want bool, err error) string {
	if errors.Is(err, settings.ErrCancelled) {
		return "Nothing changed"
	}
	if errors.Is(err, settings.ErrTranslocated) {
		return translocatedTitle
	}
	return "Could not turn " + wording.OnOff(want) + ": " + t.Label()
}

// refresh reads every toggle's state from the system into st's toggles,
// with the managed settings and the export line that sit beside them.
func (s *toggleSwitch) refresh(ctx context.Context, o offLoop, st *MenuState, managed func() managed.Settings, exportLine func(context.Context) string) {
	o.later(ctx, func() func() {
		states := s.states(ctx)
		pol := managed()
		line := ""
		if exportLine != nil {
			line = exportLine(ctx)
		}
		return func() {
			for i := range st.Toggles {
				st.Toggles[i].State = states[i]
				st.Toggles[i].Translocated = isTranslocated(states[i])
				st.Toggles[i].Busy = s.busy[s.all[i].Name()]
				_, st.Toggles[i].Managed = pol.Enforced(s.all[i].Name())
			}
			st.ExportLine = line
			st.TracingRefused = policy.ForkTracingRefused(pol) != nil
		}
	})
}

// flip turns the toggle named name over, unless a change is under way or
// a profile enforces it. The check mark changes only when the state read
// back from the system says so; then done runs (on the loop).
func (s *toggleSwitch) flip(ctx context.Context, o offLoop, st *MenuState, name string, pol managed.Settings, now func() time.Time, done func()) {
	i := s.index(name)
	if s.busy[name] || i < 0 || st.Toggles[i].MacOnly {
		return
	}
	if err := policy.Refuse(pol, name); err != nil {
		o.fail("Nothing changed", err)
		return
	}
	t, want := s.all[i], !st.Toggles[i].State.On
	s.busy[name] = true
	st.Toggles[i].Busy = true
	o.later(ctx, func() func() {
		got, err := s.set(ctx, t, want, now())
		return func() {
			s.busy[name] = false
			st.Toggles[i].State, st.Toggles[i].Busy = got, false
			st.Toggles[i].Translocated = isTranslocated(got) || errors.Is(err, settings.ErrTranslocated)
			if err != nil {
				o.fail(failTitle(t, want, err), err)
			}
			done()
		}
	})
}
