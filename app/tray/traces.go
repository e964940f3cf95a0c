package tray

import (
	"context"
	"log/slog"
	"sort"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
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
