package monitor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
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
// `grep -rl 'child side of fork'` over the same folder in the same run, in
// pairs (each pair in turn starting with the other, so that a change of
// load hits both), at least 5 pairs whatever b.N is, and reports the median
// of the pairs' throughput ratios (forkwatch / grep) with the medians of
// the times and the machine's load.
func BenchmarkSweepVsGrep(b *testing.B) {
	grep, err := exec.LookPath("grep")
	if err != nil {
		b.Skip("no grep")
	}
	dir := b.TempDir()
	total := buildSweepFolder(b, dir, 10000)
	// CPU time beside wall time: on a machine shared with other work the
	// wall-time ratio moves with the load (grep needs one core, the sweep
	// two), the CPU-time ratio much less.
	var grepCPU, sweepCPU []float64
	runGrep := func() time.Duration {
		start := time.Now()
		cmd := exec.Command(grep, "-rl", "child side of fork", dir)
		out, err := cmd.Output()
		if err != nil || len(out) == 0 {
			b.Fatalf("grep: %v", err)
		}
		d := time.Since(start)
		grepCPU = append(grepCPU, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds())
		return d
	}
	runSweep := func() time.Duration {
		c0 := cpuTime()
		start := time.Now()
		sweepOnce(b, dir)
		d := time.Since(start)
		sweepCPU = append(sweepCPU, (cpuTime() - c0).Seconds())
		return d
	}
	// Warm the page cache for both.
	runSweep()
	runGrep()

	grepCPU, sweepCPU = nil, nil
	pairs := max(b.N, 5)
	var ours, theirs, ratios []float64
	b.ResetTimer()
	for i := 0; i < pairs; i++ {
		var o, g time.Duration
		if i%2 == 0 {
			o, g = runSweep(), runGrep()
		} else {
			g, o = runGrep(), runSweep()
		}
		ours, theirs = append(ours, o.Seconds()), append(theirs, g.Seconds())
		ratios = append(ratios, g.Seconds()/o.Seconds()) // throughput ratio: same bytes
	}
	b.StopTimer()
	mb := float64(total) / 1e6
	ratio := median(ratios)
	b.ReportMetric(mb/median(ours), "forkwatch-MB/s")
	b.ReportMetric(mb/median(theirs), "grep-MB/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(10000/median(ours), "reports/s")
	b.ReportMetric(median(grepCPU)/median(sweepCPU), "cpu-ratio")
	fmt.Printf("sweep of 10000 reports (%.1f MB), %d pairs: forkwatch %.0f MB/s (median %v per sweep), grep -rl %.0f MB/s (median %v); ratio median %.2f (pairs %s); CPU time %v against grep's %v (ratio %.2f); load %s\n",
		mb, pairs, mb/median(ours), time.Duration(median(ours)*1e9).Round(time.Millisecond), mb/median(theirs),
		time.Duration(median(theirs)*1e9).Round(time.Millisecond), ratio, fmtRatios(ratios),
		time.Duration(median(sweepCPU)*1e9).Round(time.Millisecond), time.Duration(median(grepCPU)*1e9).Round(time.Millisecond), median(grepCPU)/median(sweepCPU), loadAvg())
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtRatios(v []float64) string {
	out := make([]string, len(v))
	for i, r := range v {
		out[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(out, " ")
}

// loadAvg is the 1-minute load average where the system gives it
// (/proc/loadavg), for reading a figure measured on a shared machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// cpuTime is this process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
