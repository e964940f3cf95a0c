package monitor

import (
	"github.com/forkwatch/forkwatch/monitor/report"

	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// SweepResult is one report found by Sweep.
type SweepResult struct {
	Path   string
	Report *report.Report
	Err    error
}

// Sweep reads and classifies the reports already in dirs, skipping the
// paths in skip, with a few workers (reading is mostly waiting for the
// disk; parsing is CPU). It calls out from one goroutine at a time, in no
// particular order, and returns the set of report paths present.
func Sweep(ctx context.Context, dirs []string, skip map[string]bool, out func(SweepResult)) map[string]bool {
	present := map[string]bool{}
	paths := make(chan string, 256)
	results := make(chan SweepResult, 256)
	workers := min(8, max(4, 2*runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range paths {
				r, err := report.ReadFile(p)
				select {
				case results <- SweepResult{Path: p, Report: r, Err: err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(paths)
		for _, d := range dirs {
			entries, err := os.ReadDir(d)
			if err != nil {
				continue
			}
			for _, e := range entries {
				if !report.IsReportName(e.Name()) || !e.Type().IsRegular() && e.Type()&fs.ModeSymlink == 0 {
					continue
				}
				p := filepath.Join(d, e.Name())
				present[p] = true
				if skip[p] || !e.Type().IsRegular() {
					// Symlinks are left to the watcher, which refuses them.
					continue
				}
				select {
				case paths <- p:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	for r := range results {
		out(r)
	}
	return present
}
