package tray

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// TraceViews is the Fork Tracing submenu's data: the interpreters and venvs
// Forkwatch knows (its registry, then the usual places), check marks read
// back from site-packages, those it installed first. It runs no
// interpreter. Deleted venvs are left out.
func TraceViews(ctx context.Context, m *forktrace.Manager, extra ...string) []TraceView {
	entries, err := m.Status(ctx, extra)
	if err != nil {
		slog.Warn("fork tracing status", "err", err)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.Registered != b.Registered {
			return a.Registered
		}
		return a.Enabled() && !b.Enabled()
	})
	var out []TraceView
	for _, e := range entries {
		if e.State == forktrace.StateGone || e.State == forktrace.StateNotRun {
			continue
		}
		label := appinfo.TildePath(e.Target)
		if e.Version != "" {
			label += " (Python " + e.Version + ")"
		}
		switch e.State {
		case forktrace.StatePartial:
			label += " (half installed)"
		case forktrace.StateOther:
			label += " (another Forkwatch's tracer)"
		}
		out = append(out, TraceView{Label: label, Target: e.Target, On: e.Enabled()})
	}
	return out
}

// SetTrace turns tracing on or off for a submenu entry; the caller reads
// the state back with traceViews.
func SetTrace(ctx context.Context, m *forktrace.Manager, target string, on bool) error {
	var err error
	if on {
		if err := policy.ForkTracingRefused(policy.Load(nil).Get()); err != nil {
			return err
		}
		_, err = m.Enable(ctx, target)
	} else {
		_, err = m.Disable(ctx, target)
	}
	return err
}

// crashVenvs are the venvs of the crashes listed, each once.
func crashVenvs(crashes []report.Report) []string {
	var venvs []string
	seen := map[string]bool{}
	for _, r := range recentCrashes(crashes) {
		if r.Venv != "" && !seen[r.Venv] {
			seen[r.Venv] = true
			venvs = append(venvs, r.Venv)
		}
	}
	return venvs
}

// traceSection is the Fork Tracing submenu: which interpreters and venvs
// have the tracer, read back from their site-packages, and turning it on
// or off for one.
type traceSection struct {
	tracer  *forktrace.Manager // nil: the submenu lists nothing
	changed func()             // told after a change (may be nil)
}

// refresh reads the submenu's entries (the tracer's registry, the usual
// places, and the venvs of the crashes listed) into st.
func (s traceSection) refresh(ctx context.Context, o offLoop, st *MenuState) {
	if s.tracer == nil {
		return
	}
	venvs := crashVenvs(st.Crashes)
	o.later(ctx, func() func() {
		views := TraceViews(ctx, s.tracer, venvs...)
		if len(views) > maxTraces {
			views = views[:maxTraces]
		}
		return func() { st.Traces = views }
	})
}

// flip turns fork tracing on or off for trace.N; the check mark is read
// back from site-packages afterwards.
func (s traceSection) flip(ctx context.Context, o offLoop, st *MenuState, id string) {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "trace."))
	if err != nil || n < 0 || n >= len(st.Traces) || s.tracer == nil || st.Traces[n].Busy {
		return
	}
	tv := st.Traces[n]
	st.Traces[n].Busy = true
	o.later(ctx, func() func() {
		err := SetTrace(ctx, s.tracer, tv.Target, !tv.On)
		if s.changed != nil {
			s.changed()
		}
		return func() {
			if err != nil {
				o.fail("Could not turn fork tracing "+wording.OnOff(!tv.On)+" for "+tv.Label, err)
			}
			s.refresh(ctx, o, st)
		}
	})
}
