package forktrace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkTracer measures what tracing costs against the same work
// without it, in one run with the variants interleaved (each round runs
// every variant once, each first in turn, so that a busy machine slows each
// alike): a fork round trip (os.fork, the child's _exit, wait4: the
// tracer's hooks and wrapper all run inside it), the same from a threaded
// parent (exit marks on), and a fork-context multiprocessing.Pool(8)
// start-up. The variants:
//
//   - traced: the tracer as Enable leaves it: module, .pth and the module's
//     bytecode in __pycache__ (Enable's check run imports it with -I, which
//     writes the bytecode whatever PYTHONDONTWRITEBYTECODE says);
//   - traced, no threaded check: the same less issue 30's threaded check
//     (each "-- threaded check (cut: REPLACEMENT) --" ... "-- end of threaded
//     check --" region of the module replaced by REPLACEMENT);
//   - traced, no bytecode: the module compiled at every start, as an
//     interpreter with PYTHONDONTWRITEBYTECODE=1 or a read-only
//     site-packages would (the compiler's memory stays in the process, and
//     every later fork copies its page tables);
//   - baseline, with FORKWATCH_BENCH_BASELINE naming a tracer module (with
//     its "@SPOOL@" placeholder, e.g. from git show
//     main:monitor/forktrace/tracer/forkwatch_forktrace.py): an older tracer
//     installed as traced is, for an A/B in the same run;
//   - plain: no tracer.
//
// Each ratio is the median of all of a variant's samples over plain's (the
// runs interleaved), then the median over the rounds of each round's ratio
// and the range of those: how much one round's ratio moves on this machine. It also reports the child's page faults,
// the time from fork() to the child's first line of user code, the first
// fork of a process (when the tracer maps the record file), and the
// tracer's hooks called directly. It drives python3 from PATH
// (FORKWATCH_BENCH_PYTHON overrides); the body runs once whatever b.N is.
//
//	go test -run '^$' -bench Tracer -benchtime 1x ./monitor/forktrace/
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
	type variant struct {
		name  string
		site  string
		spool string   // "" for plain
		env   []string // added to the environment
	}
	const (
		traced   = "traced"
		nocheck  = "traced, no threaded check"
		nobyte   = "traced, no bytecode"
		baseline = "baseline"
		plain    = "plain"
	)
	var variants []*variant
	add := func(name string, module []byte, compiled bool, env ...string) {
		v := &variant{name: name, site: filepath.Join(dir, "site"+strconv.Itoa(len(variants))), env: env}
		variants = append(variants, v)
		if module == nil {
			os.Mkdir(v.site, 0o755)
			return
		}
		v.spool = filepath.Join(dir, "spool"+strconv.Itoa(len(variants)))
		if err := CreateRing(v.spool); err != nil {
			b.Fatal(err)
		}
		mod, err := withSpool(module, v.spool)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(v.site, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(v.site, ModuleName), mod, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(v.site, PthName), pthContent, 0o644); err != nil {
			b.Fatal(err)
		}
		if compiled {
			compileModule(b, py, filepath.Join(v.site, ModuleName))
		}
	}
	cut, err := cutThreadedCheck(moduleTemplate)
	if err != nil {
		b.Fatal(err)
	}
	add(traced, moduleTemplate, true)
	add(nocheck, cut, true)
	add(nobyte, moduleTemplate, false, "PYTHONDONTWRITEBYTECODE=1")
	if p := os.Getenv("FORKWATCH_BENCH_BASELINE"); p != "" {
		old, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		add(baseline, old, true)
	}
	add(plain, nil, false)
	script, _ := filepath.Abs(filepath.Join("testdata", "bench.py"))

	const rounds, forks, pools = 20, 60, 12
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
	// all[v] holds every sample; perRound[v][i] round i's.
	all := map[string]*result{}
	perRound := map[string][]result{}
	var loads []float64
	for i := 0; i < rounds; i++ {
		for j := range variants {
			v := variants[(i+j)%len(variants)] // each variant first in turn
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			cmd := exec.CommandContext(ctx, py, script, v.site, strconv.Itoa(forks), strconv.Itoa(pools))
			cmd.Env = append(os.Environ(), v.env...)
			out, err := cmd.Output()
			cancel()
			if err != nil {
				b.Fatalf("bench.py (%s): %v", v.name, err)
			}
			var res result
			if err := json.Unmarshal(out, &res); err != nil {
				b.Fatalf("bench.py printed %q", out)
			}
			if res.Loaded != (v.spool != "") {
				b.Fatalf("tracer loaded = %v in the run %q", res.Loaded, v.name)
			}
			s := all[v.name]
			if s == nil {
				s = &result{}
				all[v.name] = s
			}
			s.First = append(s.First, res.First...)
			s.Fork = append(s.Fork, res.Fork...)
			s.Threaded = append(s.Threaded, res.Threaded...)
			s.ChildStart = append(s.ChildStart, res.ChildStart...)
			s.MinFlt = append(s.MinFlt, res.MinFlt...)
			s.Pool = append(s.Pool, res.Pool...)
			s.Before = append(s.Before, res.Before...)
			s.Child = append(s.Child, res.Child...)
			perRound[v.name] = append(perRound[v.name], res)
		}
		loads = append(loads, loadAverage())
	}
	// Children share a slot when their pids are equal modulo Slots.
	for _, v := range variants {
		if v.spool == "" {
			continue
		}
		if n := countRecords(b, v.spool); n < rounds*(forks+pools*8)*3/4 {
			b.Errorf("%s: only %d records for %d children", v.name, n, rounds*(2*forks+pools*8+1))
		}
	}
	// ratio is the median of all of v's samples over plain's, then the
	// median over the rounds of each round's ratio, and their range.
	ratio := func(v string, field func(*result) []float64) (all, med, lo, hi float64) {
		var rs, vs, ps []float64
		for i := range perRound[v] {
			vs = append(vs, field(&perRound[v][i])...)
			ps = append(ps, field(&perRound[plain][i])...)
			rs = append(rs, median(field(&perRound[v][i]))/median(field(&perRound[plain][i])))
		}
		sort.Float64s(rs)
		return median(vs) / median(ps), median(rs), rs[0], rs[len(rs)-1]
	}
	fork := func(r *result) []float64 { return r.Fork }
	thr := func(r *result) []float64 { return r.Threaded }
	pool := func(r *result) []float64 { return r.Pool }
	t, n, p := all[traced], all[nocheck], all[plain]
	forkRatio, _, _, _ := ratio(traced, fork)
	poolRatio, _, _, _ := ratio(traced, pool)
	thrRatio, _, _, _ := ratio(traced, thr)
	b.ReportMetric(forkRatio, "fork-ratio")
	b.ReportMetric(poolRatio, "pool8-startup-ratio")
	b.ReportMetric(thrRatio, "threaded-fork-ratio")
	b.ReportMetric(median(t.Fork)-median(p.Fork), "µs-per-fork-added")
	b.ReportMetric(median(t.Threaded)-median(n.Threaded), "µs-threaded-check")
	b.ReportMetric(median(t.Before), "µs-parent-hook")
	b.ReportMetric(median(t.Child), "µs-child-hook")
	sort.Float64s(loads)
	fmt.Printf("fork tracer (%s, %d rounds of %d interleaved runs, %d forks and %d pools each; load average %.2f-%.2f):\n",
		py, rounds, len(variants), forks, pools, loads[0], loads[len(loads)-1])
	fmt.Printf("  medians of every sample in µs (Pool in ms), their ratio to plain's, then (the median of the %d rounds' ratios [their range])\n", rounds)
	for _, v := range variants {
		s := all[v.name]
		if v.name == plain {
			fmt.Printf("  %-28s fork %6.0f                              threaded %6.0f                              Pool(8) %5.1f\n", v.name, median(s.Fork), median(s.Threaded), median(s.Pool)/1000)
			continue
		}
		f, fm, flo, fhi := ratio(v.name, fork)
		h, hm, hlo, hhi := ratio(v.name, thr)
		o, om, olo, ohi := ratio(v.name, pool)
		fmt.Printf("  %-28s fork %6.0f %.3f (%.3f [%.3f-%.3f])  threaded %6.0f %.3f (%.3f [%.3f-%.3f])  Pool(8) %5.1f %.3f (%.3f [%.3f-%.3f])\n",
			v.name, median(s.Fork), f, fm, flo, fhi, median(s.Threaded), h, hm, hlo, hhi, median(s.Pool)/1000, o, om, olo, ohi)
	}
	fmt.Printf("  the threaded check (issue 30: exit marks, the announced first fork) costs %.0f µs a fork from a threaded parent\n", median(t.Threaded)-median(n.Threaded))
	fmt.Printf("  child: %.0f page faults with the tracer, %.0f without; %.0f µs from fork() to its first line with, %.0f µs without\n",
		median(t.MinFlt), median(p.MinFlt), median(t.ChildStart), median(p.ChildStart))
	fmt.Printf("  a process's first fork (the tracer maps the record file): %.0f µs with, %.0f µs without\n", median(t.First), median(p.First))
	fmt.Printf("  the hooks called directly (a fork made in C, or os.fork from 3.12): %.1f µs in the parent (10 frames deep), %.1f µs in the child\n", median(t.Before), median(t.Child))
	for i := 0; i < b.N; i++ {
	}
}

// cutThreadedCheck replaces each "-- threaded check (cut: R) --" ... "--
// end of threaded check --" region of the tracer with R, at the region's
// indentation.
func cutThreadedCheck(module []byte) ([]byte, error) {
	re := regexp.MustCompile(`(?s)\n( *)# -- threaded check \(cut: ([^\n]*)\) --\n.*?# -- end of threaded check --\n`)
	if len(re.FindAll(module, -1)) == 0 {
		return nil, fmt.Errorf("the tracer has no threaded-check markers")
	}
	return re.ReplaceAll(module, []byte("\n${1}${2}\n")), nil
}

// compileModule writes a module's bytecode into its __pycache__, as
// Enable's check run does.
func compileModule(t testing.TB, py, module string) {
	t.Helper()
	out, err := exec.Command(py, "-I", "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)", module).CombinedOutput()
	if err != nil {
		t.Fatalf("compile %s: %v\n%s", module, err, out)
	}
}

// loadAverage is the 1-minute load average (0 where /proc has none).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

// withSpool is a tracer module (the template, or an older one) writing to
// spool.
func withSpool(module []byte, spool string) ([]byte, error) {
	q, err := json.Marshal(spool)
	if err != nil {
		return nil, err
	}
	out := bytes.Replace(module, []byte(`"@SPOOL@"`), q, 1)
	if bytes.Equal(out, module) {
		return nil, errors.New("the tracer module has no spool placeholder")
	}
	return out, nil
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
