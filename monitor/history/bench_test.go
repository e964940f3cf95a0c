package history

import (
	"bytes"
	"context"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
)

// BenchmarkMarkSeen compares committing every crash on its own (write
// through) with committing a batch per Save, as the debounced watcher does.
func BenchmarkMarkSeen(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(map[int]string{1: "commit-each", 100: "commit-per-100"}[batch], func(b *testing.B) {
			now := t0
			d, err := Open(filepath.Join(b.TempDir(), "history.db"), Options{PruneEvery: -1, Now: func() time.Time { return now }})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.MarkSeen(mkReport(i, report.CauseForkSafety, now), now)
				if (i+1)%batch == 0 {
					if err := d.Save(); err != nil {
						b.Fatal(err)
					}
				}
			}
			d.Save()
		})
	}
}

// BenchmarkDetectLatency times a real report renamed into a watched folder
// until the watcher emits it, with the JSON State and with the database as
// the Store, in the same run: the database must not slow detection.
func BenchmarkDetectLatency(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("..", "report", "testdata", "reports", "python313-duckdb-segv-chunkhound.ips"))
	if err != nil {
		b.Fatal(err)
	}
	const rounds = 300
	// Alternated, because the order alone moves the figures on a shared machine.
	for _, kind := range []string{"json-state", "sqlite", "json-state", "sqlite"} {
		b.Run(kind, func(b *testing.B) {
			for n := 0; n < b.N; n++ {
				dir := b.TempDir()
				reports := filepath.Join(dir, "reports")
				os.MkdirAll(reports, 0o755)
				var store monitor.Store
				if kind == "sqlite" {
					d, err := Open(filepath.Join(dir, "history.db"), Options{PruneEvery: -1})
					if err != nil {
						b.Fatal(err)
					}
					defer d.Close()
					store = d
				} else {
					st, _ := monitor.LoadState(filepath.Join(dir, "state.json"))
					store = st
				}
				w, err := monitor.NewWatcher(monitor.Config{ReportDirs: []string{reports}, State: store})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				evs := make(chan time.Time, 1)
				done := make(chan struct{})
				go func() {
					defer close(done)
					w.Run(ctx, func(ev monitor.Event) {
						if ev.Kind == monitor.KindCrash {
							evs <- time.Now()
						}
					})
				}()
				time.Sleep(200 * time.Millisecond)
				var lat []time.Duration
				for i := 0; i < rounds; i++ {
					id := fmt.Sprintf("A357AD50-B0BC-47E5-98C2-%012d", i)
					data := bytes.ReplaceAll(src, []byte("A357AD50-B0BC-47E5-98C2-CEFFD4342928"), []byte(id))
					tmp := filepath.Join(dir, "tmp.ips")
					os.WriteFile(tmp, data, 0o644)
					start := time.Now()
					if err := os.Rename(tmp, filepath.Join(reports, fmt.Sprintf("Python-%d.ips", i))); err != nil {
						b.Fatal(err)
					}
					select {
					case at := <-evs:
						lat = append(lat, at.Sub(start))
					case <-time.After(5 * time.Second):
						b.Fatalf("round %d: no event", i)
					}
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
				<-done
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				med, p90 := lat[len(lat)/2], lat[len(lat)*9/10]
				fmt.Printf("detection latency with %s store: median %v, p90 %v over %d reports\n", kind, med.Round(time.Microsecond), p90.Round(time.Microsecond), rounds)
				b.ReportMetric(float64(med.Microseconds()), "µs-median")
			}
		})
	}
}

// BenchmarkSeen is the lookup on the detection path, for a crash not seen.
func BenchmarkSeen(b *testing.B) {
	now := t0
	d, err := Open(filepath.Join(b.TempDir(), "history.db"), Options{PruneEvery: -1, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for i := 0; i < 10000; i++ {
		d.MarkSeen(mkReport(i, report.CauseCrash, now), now)
	}
	d.Save()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d.Seen(fmt.Sprintf("incident:x%d", i)) {
			b.Fatal("seen")
		}
	}
}
