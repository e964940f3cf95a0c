package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/forkwatch/forkwatch/monitor"
)

// home is the user's home folder from $HOME, so tests point it at a
// temporary folder.
func home() string {
	if h := os.Getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// watchDefaults fills in the folders the flags left empty: the macOS
// DiagnosticReports folders, the folder of kern.corefile, the state file.
type watchFlags struct {
	reportDirs []string
	coresDir   string
	coresSet   bool
	statePath  string
	stateSet   bool
	coreName   string
	// readOnly runs beside another Forkwatch: no instance lock, nothing
	// recorded (the memory lives in this process only).
	readOnly bool
	filled   bool // fill ran
}

func (f *watchFlags) fill(ctx context.Context) {
	if f.filled {
		return
	}
	f.filled = true
	if len(f.reportDirs) == 0 {
		f.reportDirs = defaultReportDirs()
	}
	if !f.coresSet {
		pattern, err := monitor.ReadCorePattern(ctx)
		if err != nil {
			slog.Info("no core folder to watch", "err", err)
		} else if dir, base, err := monitor.CoreDir(pattern); err != nil {
			slog.Warn("core folder", "err", err)
		} else {
			f.coresDir, f.coreName = dir, base
		}
	}
	if !f.stateSet {
		f.statePath = filepath.Join(supportDir(), "state.json")
	}
}
