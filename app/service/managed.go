package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// StartManaged reads the managed settings, applies the enforced toggles,
// starts the exporter when an endpoint is set, and watches the profile:
// on each change the toggles are enforced again, the exporter follows the
// endpoint, and onChange (may be nil) runs. The returned runner is stopped
// by the caller; version is this Forkwatch's.
func StartManaged(ctx context.Context, env settings.Env, db *history.DB, maxBackoff time.Duration, version string, log *slog.Logger, onChange func()) (*policy.Policy, *ExportRunner) {
	pol := policy.Load(log)
	policy.ApplyEnforced(ctx, env, pol.Get(), appinfo.SupportDir(), db, log)
	exp := NewExportRunner(ctx, db, pol.Get(), maxBackoff, version, log)
	go pol.Watch(ctx, log, func(s managed.Settings) {
		policy.ApplyEnforced(ctx, env, s, appinfo.SupportDir(), db, log)
		exp.Apply(s)
		if onChange != nil {
			onChange()
		}
	})
	return pol, exp
}

// ExportStatus is the `status --json` "export" entry.
type ExportStatus struct {
	Endpoint string    `json:"endpoint,omitempty"`
	Managed  bool      `json:"managed,omitempty"`
	Redact   string    `json:"redact,omitempty"`
	Pending  int       `json:"pending"`
	Sent     int       `json:"sent_kept"`
	Oldest   time.Time `json:"oldest_pending,omitzero"`
	Line     string    `json:"-"`
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
	ex := &ExportStatus{Endpoint: s.ExportEndpoint, Managed: s.Managed[managed.KeyExportEndpoint], Pending: st.Pending, Sent: st.Sent, Oldest: st.Oldest, Line: line}
	if s.ExportEndpoint != "" {
		ex.Redact = s.Redact.String()
	}
	return ex
}
