package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/history"
)

// BenchmarkHistoryDB: 100,000 crashes recorded through the Store path the
// watcher uses (MarkSeen, and Save every 100 crashes as in a burst), then
// the real binary's `history --by day` (process start included; the goal is
// under 200 ms) and `history --page` (under 500 ms), each the median of
// several runs. Run by `make bench`.
func BenchmarkHistoryDB(b *testing.B) {
	const days, perDay = 365, 274 // 100,010 crashes over a year
	bin := forkwatchBin(b)
	dir := b.TempDir()
	db := filepath.Join(dir, "history.db")
	now := time.Now()

	start := time.Now()
	seedHistoryDB(b, db, now, days, perDay)
	insert := time.Since(start)
	n := days * perDay
	fi, _ := os.Stat(db)

	timeRun := func(runs int, args ...string) (median, worst time.Duration) {
		var d []time.Duration
		for i := 0; i < runs; i++ {
			cmd := exec.Command(bin, args...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			t := time.Now()
			if err := cmd.Run(); err != nil {
				b.Fatalf("%v: %v\n%s", args, err, errb.String())
			}
			d = append(d, time.Since(t))
			if i == 0 && args[2] == "day" && bytes.Count(out.Bytes(), []byte("\n")) != days+1 {
				b.Fatalf("--by day printed %d lines, want %d", bytes.Count(out.Bytes(), []byte("\n")), days+1)
			}
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2], d[len(d)-1]
	}
	for i := 0; i < b.N; i++ {
		byDay, byDayMax := timeRun(11, "history", "--by", "day", "--db", db)
		byCause, _ := timeRun(5, "history", "--by", "program", "--since", "30d", "--db", db)
		page, pageMax := timeRun(5, "history", "--page", "--db", db, "--out", filepath.Join(dir, "page.html"))

		r, err := history.OpenReader(db, time.Local)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		t := time.Now()
		if err := r.WritePage(context.Background(), &buf, history.PageOptions{Now: now}); err != nil {
			b.Fatal(err)
		}
		inProc := time.Since(t)
		r.Close()

		fmt.Printf("history: %d crashes recorded via MarkSeen+Save in %v (%.1f µs each); database %.1f MB\n",
			n, insert.Round(time.Millisecond), float64(insert.Microseconds())/float64(n), float64(fi.Size())/1e6)
		fmt.Printf("history --by day: median %v, worst %v of 11 runs (real binary, process start included; goal < 200ms)\n", byDay.Round(100*time.Microsecond), byDayMax.Round(100*time.Microsecond))
		fmt.Printf("history --by program --since 30d: median %v\n", byCause.Round(100*time.Microsecond))
		fmt.Printf("history --page: median %v, worst %v of 5 runs (goal < 500ms); WritePage in process %v, %d KB\n", page.Round(time.Millisecond), pageMax.Round(time.Millisecond), inProc.Round(time.Millisecond), buf.Len()/1024)
		b.ReportMetric(float64(byDay.Microseconds())/1000, "ms-by-day")
		b.ReportMetric(float64(page.Microseconds())/1000, "ms-page")
		b.ReportMetric(float64(insert.Microseconds())/float64(n), "µs/insert")
		if byDay > 200*time.Millisecond {
			b.Errorf("history --by day took %v, goal 200ms", byDay)
		}
		if page > 500*time.Millisecond {
			b.Errorf("history --page took %v, goal 500ms", page)
		}
	}
}
