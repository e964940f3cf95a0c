package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor"
)

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
		f.reportDirs = appinfo.DefaultReportDirs()
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
		f.statePath = filepath.Join(appinfo.SupportDir(), "state.json")
	}
}

// lockInstance takes the one-Forkwatch lock for cmd ("forkwatch",
// "forkwatch watch") unless wf asks to run read-only, which then keeps no
// state. On failure it has said why on stderr; release is never nil.
func lockInstance(cmd string, wf *watchFlags, stderr io.Writer) (release func(), ok bool) {
	if wf.readOnly {
		wf.statePath, wf.stateSet = "", true
		return func() {}, true
	}
	release, err := appinfo.AcquireInstance(appinfo.SupportDir())
	if err != nil {
		if errors.Is(err, appinfo.ErrAlreadyRunning) {
			fmt.Fprintf(stderr, "%s: Forkwatch is %v; %s\n", cmd, err, appinfo.AlreadyRunningHint)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		}
		return func() {}, false
	}
	return release, true
}
