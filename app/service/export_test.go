package service

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// exporterGoroutines counts the goroutines running code of the export
// package or the OTLP exporter.
func exporterGoroutines() int {
	var b strings.Builder
	pprof.Lookup("goroutine").WriteTo(&b, 2)
	n := 0
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, "forkwatch/monitor/export.") || strings.Contains(g, "otlploghttp") {
			n++
		}
	}
	return n
}

// TestNoEndpointNoExporter: with no endpoint set nothing of the exporter
// exists (no goroutine, so no timer), and the history queues nothing; with
// one it runs, and it goes away when the endpoint is removed.
func TestNoEndpointNoExporter(t *testing.T) {
	db, err := history.Open(filepath.Join(t.TempDir(), "history.db"), history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	before := exporterGoroutines()
	r := NewExportRunner(ctx, db, managed.Settings{}, 0, "test", log)
	r.Kick()
	db.MarkSeen(&report.Report{ID: "incident:none", Process: "Python", Cause: report.CauseCrash}, time.Now())
	db.Save()
	if r.Running() || exporterGoroutines() != before {
		t.Fatalf("exporter runs without an endpoint (goroutines %d -> %d)", before, exporterGoroutines())
	}
	if ev, _ := db.PendingOutbox(ctx, 10); len(ev) != 0 {
		t.Fatalf("queued without an endpoint: %v", ev)
	}

	r.Apply(managed.Settings{ExportEndpoint: "http://127.0.0.1:9"})
	if !r.Running() || exporterGoroutines() <= before {
		t.Fatalf("no exporter with an endpoint")
	}
	r.Apply(managed.Settings{})
	deadline := time.Now().Add(5 * time.Second)
	for exporterGoroutines() != before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if r.Running() || exporterGoroutines() != before {
		t.Fatalf("exporter left running after the endpoint went (goroutines %d -> %d)", before, exporterGoroutines())
	}
}
