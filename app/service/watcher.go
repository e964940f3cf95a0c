package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/attribute"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings/doctor"
)

type Tuning struct {
	QuietAfter, CoreSettle, SummaryEvery time.Duration
	FolderOnly                           bool
	ExportMaxBackoff                     time.Duration
	// OnPrune hears of each pruning of the history that removed crashes
	// (from the pruning goroutine), so that `watch` can say so.
	OnPrune func(history.Pruned)
}

// NewWatcher builds the watcher and opens its memory: the history database
// by default, or the JSON state file of --state (tests, and --state "" for
// none). The returned close func releases the database.
func NewWatcher(ctx context.Context, wf *Folders, tun *Tuning, log *slog.Logger) (*monitor.Watcher, monitor.Store, func(), error) {
	wf.Fill(ctx)
	st, db := openStore(wf, tun.OnPrune, log)
	closeStore := func() {}
	if db != nil {
		closeStore = func() {
			if err := db.Close(); err != nil {
				log.Warn("history: close", "err", err)
			}
		}
	}
	attr := attribute.NewAttributor()
	w, err := monitor.NewWatcher(monitor.Config{
		ReportDirs: wf.ReportDirs,
		CoreDir:    wf.CoresDir,
		CoreName:   wf.CoreName,
		State:      st,
		QuietAfter: tun.QuietAfter,
		CoreSettle: tun.CoreSettle,
		FolderOnly: tun.FolderOnly,
		Log:        log,
		// Probe children are marked first (their reports are test results);
		// the fork tracer's record comes before attribution, so that the
		// tool it names gets its fix.
		Enrich:     []func(*report.Report){doctor.ProbeMarker(appinfo.SupportDir()), forktrace.Enricher(TraceManager().SpoolDir()), attr.Enrich},
		EnrichCore: []func(*report.CoreFile){attr.EnrichCore},
		Prefetch:   []func(int) func(){attr.StartPrefetch},
	})
	if err != nil {
		closeStore()
		return nil, nil, nil, err
	}
	return w, st, closeStore, nil
}

// openStore opens the history database (importing the JSON state of
// earlier versions once), or the JSON state when --state was given or the
// database cannot be had. A database another Forkwatch holds is not
// shared: this process then keeps its memory in the JSON state.
func openStore(wf *Folders, onPrune func(history.Pruned), log *slog.Logger) (monitor.Store, *history.DB) {
	if !wf.StateSet {
		if err := appinfo.PrivateSupportDir(appinfo.SupportDir()); err != nil {
			log.Warn("support folder", "err", err)
		}
		d, err := history.Open(appinfo.HistoryDBPath(), history.Options{Log: log, OnPrune: onPrune})
		switch {
		case d == nil && errors.Is(err, history.ErrLocked):
			log.Warn("history: another Forkwatch is recording; this one keeps its memory in the state file", "err", err)
		case d == nil:
			log.Error("history: cannot open the database; using the state file", "err", err)
		default:
			if err != nil {
				log.Error("history", "err", err) // set aside: a fresh database, the old file kept
			}
			if im, err := d.ImportState(wf.StatePath); err != nil {
				log.Warn("history: import the state file", "path", wf.StatePath, "err", err)
			} else if !im.Already && im.Seen+im.Paths > 0 {
				log.Info("history: imported the state file", "seen", im.Seen, "paths", im.Paths, "cores", im.Cores, "recent", im.Recent)
			}
			return d, d
		}
	}
	st, err := monitor.LoadState(wf.StatePath)
	if err != nil {
		log.Warn("state", "err", err)
	}
	return st, nil
}

// RecordEvent puts what the watcher's Store does not see into the history:
// core files with their sizes. (Crashes are recorded by the Store itself.)
func RecordEvent(db *history.DB, ev monitor.Event, log *slog.Logger) {
	if db == nil || ev.Kind != monitor.KindCore || ev.Core == nil {
		return
	}
	if err := db.RecordCore(*ev.Core, time.Now()); err != nil {
		log.Warn("history: record core file", "err", err)
	}
}

// TraceManager is the tracer manager for the user's support folder.
func TraceManager() *forktrace.Manager {
	return forktrace.New(appinfo.SupportDir(), appinfo.Home())
}
