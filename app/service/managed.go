package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/internal/redact"
	"github.com/forkwatch/forkwatch/monitor/export"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// StartManaged reads the managed settings, applies the enforced toggles,
// starts the exporter when an endpoint is set, and watches the profile:
// on each change the toggles are enforced again, the exporter follows the
// endpoint, and onChange (may be nil) runs. Each enforced toggle is said
// once through announce (nil: the log, at Info, which is the app's log
// file), at start and when a change enforces a new one. The returned
// runner is stopped by the caller; version is this Forkwatch's.
func StartManaged(ctx context.Context, env settings.Env, db *history.DB, maxBackoff time.Duration, version string, log *slog.Logger, onChange func(), announce func(string)) (*policy.Policy, *ExportRunner) {
	if announce == nil {
		announce = func(line string) { log.Info("managed preferences: " + line) }
	}
	var said policy.Announcer
	pol := policy.Load(log)
	policy.ApplyEnforced(ctx, env, pol.Get(), appinfo.SupportDir(), db, log)
	for _, l := range said.Lines(pol.Get()) {
		announce(l)
	}
	exp := NewExportRunner(ctx, db, pol.Get(), maxBackoff, version, log)
	go pol.Watch(ctx, log, func(s managed.Settings) {
		policy.ApplyEnforced(ctx, env, s, appinfo.SupportDir(), db, log)
		for _, l := range said.Lines(s) {
			announce(l)
		}
		exp.Apply(s)
		if onChange != nil {
			onChange()
		}
	})
	return pol, exp
}

// ExportStatus is the `status --json` "export" entry.
type ExportStatus struct {
	// Endpoint never carries a user or password (an endpoint with one is
	// refused: Error says so).
	Endpoint string    `json:"endpoint,omitempty"`
	Managed  bool      `json:"managed,omitempty"`
	Redact   string    `json:"redact,omitempty"`
	Pending  int       `json:"pending"`
	Sent     int       `json:"sent_kept"`
	Oldest   time.Time `json:"oldest_pending,omitzero"`
	// Error is why the endpoint is not used (export.ErrUserinfo's line).
	Error string `json:"error,omitempty"`
	Line  string `json:"-"`
}

// ExportStatusOf reads the outbox of the history database (read-only), or
// returns nil when export is off and nothing is queued.
func ExportStatusOf(ctx context.Context, s managed.Settings) *ExportStatus {
	var st history.OutboxStats
	var rd *history.Reader
	if r, err := history.OpenReader(appinfo.HistoryDBPath(), time.Local); err == nil {
		defer r.Close()
		rd = r
		st, _ = r.OutboxStats(ctx)
	}
	line := ExportLine(ctx, s.ExportEndpoint, rd)
	if line == "" {
		return nil
	}
	ex := &ExportStatus{Endpoint: redact.StripUserinfo(s.ExportEndpoint), Managed: s.Managed[managed.KeyExportEndpoint], Pending: st.Pending, Sent: st.Sent, Oldest: st.Oldest, Line: line}
	if s.ExportEndpoint != "" {
		ex.Redact = s.Redact.String()
		if _, err := export.LogsURL(s.ExportEndpoint); err != nil {
			ex.Error = err.Error()
		}
	}
	return ex
}
