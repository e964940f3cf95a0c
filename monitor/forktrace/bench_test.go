package forktrace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// BenchmarkTracer measures what tracing costs against the same work
// without it, in one run with the two interleaved (so that a busy machine
// slows both alike): a fork round trip (os.fork, the child's _exit,
// waitpid: the tracer's parent and child hooks both run inside it) and a
// fork-context multiprocessing.Pool(8) start-up. It drives python3 from
// PATH (FORKWATCH_BENCH_PYTHON overrides) and prints medians; the body runs
// once whatever b.N is.
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
	traced, plain, spool := filepath.Join(dir, "traced"), filepath.Join(dir, "plain"), filepath.Join(dir, "spool")
	if err := CreateRing(spool); err != nil {
		b.Fatal(err)
	}
	os.Mkdir(plain, 0o755)
	installInto(b, traced, spool)
	script, _ := filepath.Abs(filepath.Join("testdata", "bench.py"))

	const rounds, forks, pools = 10, 100, 5
	samples := map[bool]map[string][]float64{true: {}, false: {}}
	for i := 0; i < rounds; i++ {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, withTracer := range order {
			site := plain
			if withTracer {
				site = traced
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			out, err := exec.CommandContext(ctx, py, script, site, strconv.Itoa(forks), strconv.Itoa(pools)).Output()
			cancel()
			if err != nil {
				b.Fatalf("bench.py: %v", err)
			}
			var res struct {
				Loaded bool      `json:"loaded"`
				Fork   []float64 `json:"fork"`
				Pool   []float64 `json:"pool"`
				Before []float64 `json:"hook_before"`
				Child  []float64 `json:"hook_child"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				b.Fatalf("bench.py printed %q", out)
			}
			if res.Loaded != withTracer {
				b.Fatalf("tracer loaded = %v in the run with tracer = %v", res.Loaded, withTracer)
			}
			samples[withTracer]["fork"] = append(samples[withTracer]["fork"], res.Fork...)
			samples[withTracer]["pool"] = append(samples[withTracer]["pool"], res.Pool...)
			samples[withTracer]["before"] = append(samples[withTracer]["before"], res.Before...)
			samples[withTracer]["child"] = append(samples[withTracer]["child"], res.Child...)
		}
	}
	// Children share a slot when their pids are equal modulo Slots.
	if n := countRecords(b, spool); n < rounds*(forks+pools*8)*3/4 {
		b.Errorf("only %d records for %d traced children", n, rounds*(forks+pools*8))
	}
	forkWith, forkWithout := median(samples[true]["fork"]), median(samples[false]["fork"])
	poolWith, poolWithout := median(samples[true]["pool"]), median(samples[false]["pool"])
	before, child := median(samples[true]["before"]), median(samples[true]["child"])
	b.ReportMetric(forkWith-forkWithout, "µs-per-fork-added")
	b.ReportMetric(before, "µs-parent-hook")
	b.ReportMetric(child, "µs-child-hook")
	b.ReportMetric(poolWith/poolWithout, "pool8-startup-ratio")
	fmt.Printf("fork tracer (%s, %d rounds interleaved): fork round trip median %.0f µs with, %.0f µs without (+%.0f µs); "+
		"Pool(8) start-up median %.1f ms with, %.1f ms without (ratio %.3f); %d + %d samples; "+
		"the hooks alone: %.1f µs in the parent (10 frames deep), %.1f µs in the child\n",
		py, rounds, forkWith, forkWithout, forkWith-forkWithout, poolWith/1000, poolWithout/1000, poolWith/poolWithout,
		len(samples[true]["fork"]), len(samples[true]["pool"]), before, child)
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
