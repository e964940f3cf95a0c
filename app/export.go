package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/export"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// exportRunner starts, restarts and stops the OTLP exporter as the
// ExportEndpoint setting comes and goes. With no endpoint nothing of the
// exporter exists: no goroutine, no timer, and the history queues nothing.
type exportRunner struct {
	ctx        context.Context
	db         *history.DB
	log        *slog.Logger
	maxBackoff time.Duration

	mu     sync.Mutex
	cur    *export.Exporter
	cancel context.CancelFunc
	key    string // endpoint, headers and redaction the exporter runs with
}

// newExportRunner applies s at once; later profile changes go through apply.
// db nil (another Forkwatch records the history) means no export here.
func newExportRunner(ctx context.Context, db *history.DB, s managed.Settings, maxBackoff time.Duration, log *slog.Logger) *exportRunner {
	r := &exportRunner{ctx: ctx, db: db, log: log, maxBackoff: maxBackoff}
	r.apply(s)
	return r
}

// apply starts the exporter for s's endpoint, restarts it when the
// endpoint, headers or redaction changed, or stops it when the endpoint is
// gone (what is queued stays for later).
func (r *exportRunner) apply(s managed.Settings) {
	if r == nil || r.db == nil {
		return
	}
	key := fmt.Sprint(s.ExportEndpoint, s.ExportHeaders, s.Redact)
	if s.ExportEndpoint == "" {
		key = ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if key == r.key && (r.cur != nil || key == "") {
		return
	}
	if r.cancel != nil {
		r.cancel()
		<-r.cur.Done()
		r.cur, r.cancel = nil, nil
	}
	r.key = key
	r.db.SetOutbox(key != "")
	if key == "" {
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	e, err := export.Start(ctx, export.Config{
		Endpoint: s.ExportEndpoint, Headers: s.ExportHeaders, Redact: s.Redact,
		Home: settings.DefaultEnv().Home, Version: appinfo.Version(version), Outbox: r.db, Log: r.log,
		MaxBackoff: r.maxBackoff,
	})
	if err != nil {
		cancel()
		r.log.Error("export: not started", "err", err)
		return
	}
	r.cur, r.cancel = e, cancel
	r.log.Info("export: sending to " + s.ExportEndpoint)
}

// kick asks for a send (an event was recorded). Never blocks.
func (r *exportRunner) kick() {
	if r == nil {
		return
	}
	r.mu.Lock()
	e := r.cur
	r.mu.Unlock()
	if e != nil {
		e.Kick()
	}
}

// running reports whether an exporter is running.
func (r *exportRunner) running() bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur != nil
}

// stop stops the exporter and waits for its last request.
func (r *exportRunner) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
		<-r.cur.Done()
		r.cur, r.cancel = nil, nil
	}
}

// exportLine is the line `status` and the menu's About show: where events
// go and how many wait in the outbox. "" when export is off and nothing is
// queued.
func exportLine(ctx context.Context, endpoint string, rd *history.Reader) string {
	var st history.OutboxStats
	if rd != nil {
		var err error
		if st, err = rd.OutboxStats(ctx); err != nil {
			return "Export: outbox unreadable: " + err.Error()
		}
	}
	switch {
	case endpoint == "" && st.Pending == 0:
		return ""
	case endpoint == "":
		return fmt.Sprintf("Export: off; %d %s kept in the outbox", st.Pending, wording.Plural(st.Pending, "event", "events"))
	case st.Pending == 0:
		return "Export: to " + endpoint + ", all sent"
	default:
		return fmt.Sprintf("Export: to %s, %d waiting (oldest %s)", endpoint, st.Pending, st.Oldest.Format("Jan 2 15:04"))
	}
}

// startManaged reads the managed settings, applies the enforced toggles,
// starts the exporter when an endpoint is set, and watches the profile:
// on each change the toggles are enforced again, the exporter follows the
// endpoint, and onChange (may be nil) runs. The returned runner is stopped
// by the caller.
func startManaged(ctx context.Context, env settings.Env, db *history.DB, maxBackoff time.Duration, log *slog.Logger, onChange func()) (*policy.Policy, *exportRunner) {
	pol := policy.Load(log)
	policy.ApplyEnforced(ctx, env, pol.Get(), appinfo.SupportDir(), db, log)
	exp := newExportRunner(ctx, db, pol.Get(), maxBackoff, log)
	go pol.Watch(ctx, log, func(s managed.Settings) {
		policy.ApplyEnforced(ctx, env, s, appinfo.SupportDir(), db, log)
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
	if r, err := history.OpenReader(appinfo.HistoryDBPath(), time.Local); err == nil {
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
