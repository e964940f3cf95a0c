package monitor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// buildSweepFolder fills dir with n reports copied round-robin from the
// real samples in testdata/reports (and ../shared/crash-reports).
func buildSweepFolder(tb testing.TB, dir string, n int) (bytes int64) {
	tb.Helper()
	paths, _ := filepath.Glob(filepath.Join("report", "testdata", "reports", "*"))
	if len(paths) == 0 {
		tb.Fatal("no samples")
	}
	var data [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		data = append(data, b)
	}
	for i := 0; i < n; i++ {
		j := i % len(paths)
		name := fmt.Sprintf("r%05d-%s", i, filepath.Base(paths[j]))
		if err := os.WriteFile(filepath.Join(dir, name), data[j], 0o644); err != nil {
			tb.Fatal(err)
		}
		bytes += int64(len(data[j]))
	}
	return bytes
}

// sweepOnce classifies every report in dir with the watcher's sweep.
func sweepOnce(tb testing.TB, dir string) (python int) {
	n := 0
	Sweep(context.Background(), []string{dir}, nil, func(r SweepResult) {
		n++
		if r.Report != nil && r.Report.Python {
			python++
		}
	})
	if n != 10000 {
		tb.Fatalf("swept %d reports, want 10000", n)
	}
	return python
}

// BenchmarkSweepVsGrep sweeps a folder of 10,000 real reports and runs
// `grep -rl 'child side of fork'` over the same folder in the same run,
// and reports both throughputs and their ratio (forkwatch / grep).
func BenchmarkSweepVsGrep(b *testing.B) {
	grep, err := exec.LookPath("grep")
	if err != nil {
		b.Skip("no grep")
	}
	dir := b.TempDir()
	total := buildSweepFolder(b, dir, 10000)
	// Warm the page cache for both.
	sweepOnce(b, dir)
	exec.Command(grep, "-rl", "child side of fork", dir).Run()

	var ours, theirs time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		sweepOnce(b, dir)
		ours += time.Since(start)
		start = time.Now()
		out, err := exec.Command(grep, "-rl", "child side of fork", dir).Output()
		if err != nil || len(out) == 0 {
			b.Fatalf("grep: %v", err)
		}
		theirs += time.Since(start)
	}
	b.StopTimer()
	mb := float64(total) / 1e6 * float64(b.N)
	oursMBs, grepMBs := mb/ours.Seconds(), mb/theirs.Seconds()
	b.ReportMetric(oursMBs, "forkwatch-MB/s")
	b.ReportMetric(grepMBs, "grep-MB/s")
	b.ReportMetric(oursMBs/grepMBs, "ratio")
	b.ReportMetric(float64(10000*b.N)/ours.Seconds(), "reports/s")
	fmt.Printf("sweep of 10000 reports (%.1f MB): forkwatch %.0f MB/s (%v per sweep), grep -rl %.0f MB/s (%v); ratio %.2f\n",
		float64(total)/1e6, oursMBs, (ours / time.Duration(b.N)).Round(time.Millisecond), grepMBs, (theirs / time.Duration(b.N)).Round(time.Millisecond), oursMBs/grepMBs)
}
