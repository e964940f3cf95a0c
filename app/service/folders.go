// Package service is the background work `forkwatch watch` and the
// menu-bar app share: the folders to watch and the watcher over them with
// its memory (the history database, or the JSON state), the managed
// settings applied and followed, the OTLP exporter as the profile's
// endpoint comes and goes, and the sweeper of the fork tracer's spool. The
// commands start it and print or show what it finds; it never prints.
package service

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor"
)

// Folders are what `watch` and the app watch and where they keep their
// memory, as the flags gave them (--reports-dir, --cores-dir, --state,
// --read-only); Fill fills in what the flags left empty. A Set field says
// the flag was given, so that --cores-dir "" (no core folder) differs from
// no flag (the folder of kern.corefile).
type Folders struct {
	ReportDirs []string
	CoresDir   string
	CoresSet   bool
	StatePath  string
	StateSet   bool
	CoreName   string // the file name pattern of kern.corefile (core.%P)
	// ReadOnly runs beside another Forkwatch: no instance lock, nothing
	// recorded (the memory lives in this process only).
	ReadOnly bool
	filled   bool // fill ran
}

// Fill fills in the folders the flags left empty: the macOS
// DiagnosticReports folders, the folder of kern.corefile, the state file.
// It runs once.
func (f *Folders) Fill(ctx context.Context) {
	if f.filled {
		return
	}
	f.filled = true
	if len(f.ReportDirs) == 0 {
		f.ReportDirs = appinfo.DefaultReportDirs()
	}
	if !f.CoresSet {
		pattern, err := monitor.ReadCorePattern(ctx)
		if err != nil {
			slog.Info("no core folder to watch", "err", err)
		} else if dir, base, err := monitor.CoreDir(pattern); err != nil {
			slog.Warn("core folder", "err", err)
		} else {
			f.CoresDir, f.CoreName = dir, base
		}
	}
	if !f.StateSet {
		f.StatePath = filepath.Join(appinfo.SupportDir(), "state.json")
	}
}
