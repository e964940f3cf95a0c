package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/internal/redact"
	"github.com/forkwatch/forkwatch/monitor/export"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// ExportRunner starts, restarts and stops the OTLP exporter as the
// ExportEndpoint setting comes and goes. With no endpoint nothing of the
// exporter exists: no goroutine, no timer, and the history queues nothing.
type ExportRunner struct {
	ctx        context.Context
	db         *history.DB
	log        *slog.Logger
	maxBackoff time.Duration
	version    string // this Forkwatch's, in the exported resource

	mu     sync.Mutex
	cur    *export.Exporter
	cancel context.CancelFunc
	key    string // endpoint, headers and redaction the exporter runs with
	failed string // the key the exporter last failed to start with: said once
}

// NewExportRunner applies s at once; later profile changes go through apply.
// db nil (another Forkwatch records the history) means no export here;
// version is this Forkwatch's, sent with every event.
func NewExportRunner(ctx context.Context, db *history.DB, s managed.Settings, maxBackoff time.Duration, version string, log *slog.Logger) *ExportRunner {
	r := &ExportRunner{ctx: ctx, db: db, log: log, maxBackoff: maxBackoff, version: version}
	r.Apply(s)
	return r
}

// Apply starts the exporter for s's endpoint, restarts it when the
// endpoint, headers or redaction changed, or stops it when the endpoint is
// gone (what is queued stays for later).
func (r *ExportRunner) Apply(s managed.Settings) {
	if r == nil || r.db == nil {
		return
	}
	key := fmt.Sprint(s.ExportEndpoint, s.ExportHeaders, s.Redact)
	if s.ExportEndpoint == "" {
		key = ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if key == r.key && (r.cur != nil || key == "" || key == r.failed) {
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
		Home: settings.DefaultEnv().Home, Version: r.version, Outbox: r.db, Log: r.log,
		MaxBackoff: r.maxBackoff,
	})
	if err != nil {
		// One line, said once for these settings: for an endpoint with a
		// user or password it is export.ErrUserinfo, which does not repeat
		// the URL; other errors name it without its userinfo.
		cancel()
		r.failed = key
		r.log.Error("export: not started", "err", err)
		return
	}
	r.cur, r.cancel, r.failed = e, cancel, ""
	r.log.Info("export: sending to " + redact.StripUserinfo(s.ExportEndpoint))
}

// Kick asks for a send (an event was recorded). Never blocks.
func (r *ExportRunner) Kick() {
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

// Running reports whether an exporter is running.
func (r *ExportRunner) Running() bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur != nil
}

// Stop stops the exporter and waits for its last request.
func (r *ExportRunner) Stop() {
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

// ExportLine is the line `status` and the menu's About show: where events
// go and how many wait in the outbox. "" when export is off and nothing is
// queued. An endpoint the exporter refuses (a user or password in it:
// export.ErrUserinfo) is said as that one line, never printed.
func ExportLine(ctx context.Context, endpoint string, rd *history.Reader) string {
	if endpoint != "" {
		if _, err := export.LogsURL(endpoint); err != nil {
			return exportRefusedLine(ctx, err, rd)
		}
	}
	endpoint = redact.StripUserinfo(endpoint)
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

// exportRefusedLine is ExportLine for an endpoint that is not used.
func exportRefusedLine(ctx context.Context, err error, rd *history.Reader) string {
	line := "Export: not used: " + err.Error()
	if rd != nil {
		if st, serr := rd.OutboxStats(ctx); serr == nil && st.Pending > 0 {
			line += fmt.Sprintf(" (%d %s kept in the outbox)", st.Pending, wording.Plural(st.Pending, "event", "events"))
		}
	}
	return line
}
