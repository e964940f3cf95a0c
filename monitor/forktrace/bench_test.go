package forktrace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"
)

// BenchmarkTracer measures what tracing costs against the same work
// without it, in one run with the variants interleaved (so that a busy
// machine slows each alike): a fork round trip (os.fork, the child's _exit,
// wait4: the tracer's parent and child hooks both run inside it) and a
// fork-context multiprocessing.Pool(8) start-up, each with the tracer, with
// the tracer less its threaded check (issue 30's addition, cut out of the
// module between its marker comments), and without a tracer. It also
// reports the child's page faults, the time from fork() to the child's
// first line of user code, and the first fork of a process (when the
// tracer maps the record file). It drives python3 from PATH
// (FORKWATCH_BENCH_PYTHON overrides) and prints medians; the body runs once
// whatever b.N is.
//
//	go test -run '^$' -bench Tracer ./monitor/forktrace/
func BenchmarkTracer(b *testing.B) {
	py := os.Getenv("FORKWATCH_BENCH_PYTHON")
	if py == "" {
		var err error
		if py, err = exec.LookPath("python3"); err != nil {
			b.Skip("no python3")
		}
	}
	if maj, min := pythonVersion(b, py); maj < 3 || maj == 3 && min < 7 {
		b.Skipf("%s is older than 3.7", py)
	}
	dir := b.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := CreateRing(spool); err != nil {
		b.Fatal(err)
	}
	const (
		traced  = "traced"
		nocheck = "traced, no threaded check"
		plain   = "plain"
	)
	sites := map[string]string{}
	for _, v := range []string{traced, nocheck, plain} {
		sites[v] = filepath.Join(dir, strconv.Itoa(len(sites)))
	}
	os.Mkdir(sites[plain], 0o755)
	installInto(b, sites[traced], spool)
	// Its own spool, to check that the variant without the check records.
	spool2 := filepath.Join(dir, "spool2")
	if err := CreateRing(spool2); err != nil {
		b.Fatal(err)
	}
	installInto(b, sites[nocheck], spool2)
	mod := filepath.Join(sites[nocheck], ModuleName)
	src, _ := os.ReadFile(mod)
	cut := regexp.MustCompile(`(?s)\n( *)# -- threaded check [^\n]*\n.*# -- end of threaded check --\n`)
	if !cut.Match(src) {
		b.Fatal("the tracer has no threaded-check markers")
	}
	os.WriteFile(mod, cut.ReplaceAll(src, []byte("\n${1}threaded, wake, names = False, False, b\"\"\n")), 0o644)
	script, _ := filepath.Abs(filepath.Join("testdata", "bench.py"))

	const rounds, forks, pools = 10, 100, 10
	type result struct {
		Loaded     bool      `json:"loaded"`
		First      []float64 `json:"first"`
		Fork       []float64 `json:"fork"`
		Threaded   []float64 `json:"fork_threaded"`
		ChildStart []float64 `json:"child_start"`
		MinFlt     []float64 `json:"minflt"`
		Pool       []float64 `json:"pool"`
		Before     []float64 `json:"hook_before"`
		Child      []float64 `json:"hook_child"`
	}
	samples := map[string]*result{traced: {}, nocheck: {}, plain: {}}
	variants := []string{traced, nocheck, plain}
	for i := 0; i < rounds; i++ {
		for j := range variants {
			v := variants[(i+j)%len(variants)] // each variant first in turn
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			out, err := exec.CommandContext(ctx, py, script, sites[v], strconv.Itoa(forks), strconv.Itoa(pools)).Output()
			cancel()
			if err != nil {
				b.Fatalf("bench.py: %v", err)
			}
			var res result
			if err := json.Unmarshal(out, &res); err != nil {
				b.Fatalf("bench.py printed %q", out)
			}
			if res.Loaded != (v != plain) {
				b.Fatalf("tracer loaded = %v in the run %q", res.Loaded, v)
			}
			s := samples[v]
			s.First = append(s.First, res.First...)
			s.Fork = append(s.Fork, res.Fork...)
			s.Threaded = append(s.Threaded, res.Threaded...)
			s.ChildStart = append(s.ChildStart, res.ChildStart...)
			s.MinFlt = append(s.MinFlt, res.MinFlt...)
			s.Pool = append(s.Pool, res.Pool...)
			s.Before = append(s.Before, res.Before...)
			s.Child = append(s.Child, res.Child...)
		}
	}
	// Children share a slot when their pids are equal modulo Slots.
	if n := countRecords(b, spool); n < rounds*(forks+pools*8)*3/4 {
		b.Errorf("only %d records for %d traced children", n, 2*rounds*(forks+pools*8))
	}
	if n := countRecords(b, spool2); n < rounds*(forks+pools*8)*3/4 {
		b.Errorf("the tracer less its threaded check wrote only %d records", n)
	}
	t, n, p := samples[traced], samples[nocheck], samples[plain]
	forkRatio, poolRatio := median(t.Fork)/median(p.Fork), median(t.Pool)/median(p.Pool)
	check := median(t.Fork) - median(n.Fork)
	b.ReportMetric(forkRatio, "fork-ratio")
	b.ReportMetric(poolRatio, "pool8-startup-ratio")
	b.ReportMetric(median(t.Fork)-median(p.Fork), "µs-per-fork-added")
	b.ReportMetric(check, "µs-threaded-check")
	b.ReportMetric(median(t.Before), "µs-parent-hook")
	b.ReportMetric(median(t.Child), "µs-child-hook")
	fmt.Printf("fork tracer (%s, %d rounds of 3 interleaved runs, %d forks and %d pools each; medians):\n", py, rounds, forks, pools)
	fmt.Printf("  fork round trip: %.0f µs with the tracer, %.0f µs without: ratio %.3f (+%.0f µs); the threaded check's share: %.0f µs with it, %.0f µs without (%+.0f µs)\n",
		median(t.Fork), median(p.Fork), forkRatio, median(t.Fork)-median(p.Fork), median(t.Fork), median(n.Fork), check)
	fmt.Printf("  fork round trip from a threaded parent: %.0f µs with the tracer, %.0f µs without: ratio %.3f; %.0f µs with the tracer less its threaded check\n",
		median(t.Threaded), median(p.Threaded), median(t.Threaded)/median(p.Threaded), median(n.Threaded))
	b.ReportMetric(median(t.Threaded)/median(p.Threaded), "threaded-fork-ratio")
	fmt.Printf("  Pool(8) start-up: %.1f ms with, %.1f ms without: ratio %.3f (%.1f ms without the threaded check)\n",
		median(t.Pool)/1000, median(p.Pool)/1000, poolRatio, median(n.Pool)/1000)
	fmt.Printf("  child: %.0f page faults with, %.0f without; %.0f µs from fork() to its first line with, %.0f µs without\n",
		median(t.MinFlt), median(p.MinFlt), median(t.ChildStart), median(p.ChildStart))
	fmt.Printf("  a process's first fork (the tracer maps the record file): %.0f µs with, %.0f µs without\n", median(t.First), median(p.First))
	fmt.Printf("  the hooks alone: %.1f µs in the parent (10 frames deep), %.1f µs in the child\n", median(t.Before), median(t.Child))
	for i := 0; i < b.N; i++ {
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
