package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of the real `forkwatch watch` binary (make bench). Each prints
// figures from a real run; timings are compared with a peer measured in the
// same run.

// procTicks returns utime+stime of pid in clock ticks (/proc/PID/stat).
func procTicks(tb testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// procStatus returns a field of /proc/PID/status in kB (VmHWM, VmRSS).
func procStatus(tb testing.TB, pid int, field string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n
		}
	}
	return -1
}

// liveParent starts a real python3 that sleeps in a temp project folder,
// standing in for the forking parent (a gunicorn master, a pool owner) that
// attribution reads while it is still alive. It is killed when tb ends.
func liveParent(tb testing.TB) int {
	py, err := exec.LookPath("python3")
	if err != nil {
		tb.Skip("needs python3 for a live parent")
	}
	proj := filepath.Join(tb.TempDir(), "shop")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "pyproject.toml"), []byte("[project]\nname = \"shop\"\n"), 0o644)
	cmd := exec.Command(py, "-c", "import time; time.sleep(3600)")
	cmd.Dir = proj
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	time.Sleep(50 * time.Millisecond)
	return cmd.Process.Pid
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// BenchmarkWatchLatency: the time from a report's rename into a watched
// folder to its JSON line, median of 40 drops, against an
// `inotifywait -m | while read; do grep -l ...; done` pipeline.
func BenchmarkWatchLatency(b *testing.B) {
	if _, err := exec.LookPath("inotifywait"); err != nil {
		b.Skip("needs inotifywait (inotify-tools) for the peer pipeline")
	}
	data, _ := os.ReadFile(sample("python313-duckdb-segv-chunkhound.ips"))
	// The parent is alive, so every drop pays for attribution (reading the
	// parent's command line and folder) on the detection path.
	parent := liveParent(b)
	// The crash happens now, after the parent started: attribution's guard
	// against a reused pid would refuse a parent younger than the crash.
	now := time.Now().Format("2006-01-02 15:04:05.0000 -0700")
	data = []byte(strings.NewReplacer(`"parentProc" : "uv"`, `"parentProc" : "python3"`, `"parentPid" : 28565`, fmt.Sprintf(`"parentPid" : %d`, parent),
		`"captureTime" : "2025-06-27 12:35:35.9371 +0300"`, `"captureTime" : "`+now+`"`, `"timestamp":"2025-06-27 12:35:36.00 +0300"`, `"timestamp":"`+now+`"`,
		`"userID" : 501`, fmt.Sprintf(`"userID" : %d`, os.Getuid())).Replace(string(data))) // a parent of ours (docs/security.md)
	const drops = 40
	measure := func(dir string, lines *bufio.Scanner) []time.Duration {
		var out []time.Duration
		for i := 0; i < drops; i++ {
			// A fresh incident id of the shape Apple writes (an uppercase
			// UUID): report.Peek takes only such an id for the store's
			// early answer, as it does for a real report.
			n := time.Now().UnixNano()
			d := strings.Replace(string(data), "A357AD50-B0BC-47E5-98C2-CEFFD4342928", fmt.Sprintf("%08X-%04X-4%03X-A%03X-%012X", uint32(n>>32), uint16(n>>16), i&0xfff, uint16(n)&0xfff, n), -1)
			tmp := filepath.Join(filepath.Dir(dir), "stage")
			os.WriteFile(tmp, []byte(d), 0o644)
			start := time.Now()
			os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("Python-%d.ips", i)))
			if !lines.Scan() {
				b.Fatal("no output")
			}
			out = append(out, time.Since(start))
			if l := lines.Text(); strings.HasPrefix(l, "{") && !strings.Contains(l, `"group":"parent:`) {
				b.Fatalf("no attribution of the live parent: %s", l)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return out
	}
	for i := 0; i < b.N; i++ {
		reports := filepath.Join(b.TempDir(), "reports", "DiagnosticReports")
		os.MkdirAll(reports, 0o755)
		// The default memory: the history database in the (temporary) home.
		cmd := exec.Command(forkwatchBin(b), "watch", "--json", "--reports-dir", reports, "--cores-dir", "")
		cmd.Env = testEnv(b)
		out, _ := cmd.StdoutPipe()
		cmd.Start()
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) // also when a check fails
		time.Sleep(300 * time.Millisecond)
		ours := measure(reports, bufio.NewScanner(out))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()

		peerDir := filepath.Join(b.TempDir(), "reports", "DiagnosticReports")
		os.MkdirAll(peerDir, 0o755)
		peer := exec.Command("bash", "-c", `inotifywait -q -m -e moved_to,close_write --format '%w%f' "$1" | while read -r f; do grep -l 'child side of fork' "$f" || echo "$f"; done`, "peer", peerDir)
		pout, _ := peer.StdoutPipe()
		peer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		peer.Start()
		time.Sleep(300 * time.Millisecond)
		theirs := measure(peerDir, bufio.NewScanner(pout))
		syscall.Kill(-peer.Process.Pid, syscall.SIGTERM)
		peer.Wait()

		mo, mt := median(ours), median(theirs)
		b.ReportMetric(float64(mo.Microseconds()), "forkwatch-µs")
		b.ReportMetric(float64(mt.Microseconds()), "inotifywait+grep-µs")
		b.ReportMetric(float64(mo)/float64(mt), "ratio")
		fmt.Printf("detection latency (attribution of a live parent, history database), median of %d: forkwatch %v, inotifywait|grep %v; ratio %.2f\n", drops, mo.Round(time.Microsecond), mt.Round(time.Microsecond), float64(mo)/float64(mt))
	}
}

// BenchmarkWatchIdle: two minutes with nothing happening, no tracer
// installed, the history database as a user has it; CPU clock ticks used
// (want 0) and context switches, voluntary and involuntary, of all threads
// (want at most 5 a minute: the spool sweep and pruning keep no minute
// timers). FORKWATCH_IDLE_SECONDS shortens it.
func BenchmarkWatchIdle(b *testing.B) {
	d := 120 * time.Second
	if s := os.Getenv("FORKWATCH_IDLE_SECONDS"); s != "" {
		n, _ := strconv.Atoi(s)
		d = time.Duration(n) * time.Second
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		reports := filepath.Join(dir, "DiagnosticReports")
		os.MkdirAll(reports, 0o755)
		cmd := exec.Command(forkwatchBin(b), "watch", "--json", "--reports-dir", reports, "--cores-dir", filepath.Join(dir, "cores"))
		cmd.Env = testEnv(b)
		cmd.Start()
		time.Sleep(3 * time.Second) // start-up, sweep, first prune
		pid := cmd.Process.Pid
		t0, cs0 := procTicks(b, pid), ctxSwitches(pid)
		time.Sleep(d)
		t1, cs1 := procTicks(b, pid), ctxSwitches(pid)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		perMin := float64(cs1-cs0) / d.Minutes()
		b.ReportMetric(float64(t1-t0), "ticks")
		b.ReportMetric(perMin, "ctx-switches/min")
		fmt.Printf("idle %v (history database, no tracer): %d clock ticks of CPU, %d context switches across all threads (%.1f a minute; goal <= 5)\n", d, t1-t0, cs1-cs0, perMin)
		if perMin > 5 {
			b.Errorf("idle watch: %.1f context switches a minute, want at most 5", perMin)
		}
	}
}

// ctxSwitches sums voluntary and involuntary switches of all threads.
func ctxSwitches(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var n int64
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "voluntary_ctxt_switches:") || strings.HasPrefix(l, "nonvoluntary_ctxt_switches:") {
				v, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
				n += v
			}
		}
	}
	return n
}

// BenchmarkWatchBurst: a crash loop of 1,000 reports from one live parent
// within one second is all recorded exactly once, in one group, gives at
// most 3 notifications, and costs under 2 s of CPU.
func BenchmarkWatchBurst(b *testing.B) {
	data, _ := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	parent := liveParent(b)
	data = []byte(strings.NewReplacer("Parent Process:        Python [35705]", fmt.Sprintf("Parent Process:        python3 [%d]", parent),
		"Date/Time:             2020-07-17 14:40:47.658 +0200", "Date/Time:             "+time.Now().Format("2006-01-02 15:04:05.000 -0700"),
		"User ID:               501", fmt.Sprintf("User ID:               %d", os.Getuid())).Replace(string(data)))
	data = append(data, "\nBinary Images:\n       0x10c7a5000 -        0x10c7c6ff7 +Python (3.7.7) <9F3A2D16> /usr/local/bin/python3\n"...)
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		reports := filepath.Join(dir, "DiagnosticReports")
		os.MkdirAll(reports, 0o755)
		env := testEnv(b)
		home := envValue(env, "HOME")
		// beeep falls back to notify-send without a D-Bus session: count.
		notifyLog := filepath.Join(home, "notify.log")
		os.WriteFile(filepath.Join(home, "fakebin", "notify-send"), []byte("#!/bin/sh\necho \"$1\" >> "+notifyLog+"\n"), 0o755)
		cmd := exec.Command(forkwatchBin(b), "watch", "--json", "--notify", "--reports-dir", reports, "--cores-dir", "", "--state", filepath.Join(dir, "state.json"), "--summary-every", "5s")
		cmd.Env = env
		out, _ := cmd.StdoutPipe()
		cmd.Start()
		time.Sleep(500 * time.Millisecond)
		t0 := procTicks(b, cmd.Process.Pid)
		stage := filepath.Join(dir, "stage")
		os.MkdirAll(stage, 0o755)
		for j := 0; j < 1000; j++ {
			d := strings.Replace(string(data), "[35706]", fmt.Sprintf("[%d]", 100000+j), 1)
			os.WriteFile(filepath.Join(stage, strconv.Itoa(j)), []byte(d), 0o644)
		}
		start := time.Now()
		for j := 0; j < 1000; j++ {
			os.Rename(filepath.Join(stage, strconv.Itoa(j)), filepath.Join(reports, fmt.Sprintf("Python_%d_host.crash", j)))
		}
		spread := time.Since(start)
		sc := bufio.NewScanner(out)
		ids := map[string]int{}
		groups := map[string]int{}
		field := func(line, name string) string {
			k := strings.Index(line, `"`+name+`":"`)
			if k < 0 {
				return ""
			}
			v := line[k+len(name)+4:]
			return v[:strings.IndexByte(v, '"')]
		}
		for len(ids) < 1000 && sc.Scan() {
			line := sc.Text()
			if id := field(line, "id"); id != "" {
				ids[id]++
				groups[field(line, "group")]++
			}
		}
		all := time.Since(start)
		time.Sleep(6 * time.Second) // the one summary
		t1 := procTicks(b, cmd.Process.Pid)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		dups := 0
		for _, n := range ids {
			if n > 1 {
				dups++
			}
		}
		nb, _ := os.ReadFile(notifyLog)
		notes := strings.Count(string(nb), "\n")
		cpu := time.Duration(t1-t0) * 10 * time.Millisecond
		b.ReportMetric(float64(len(ids)), "recorded")
		b.ReportMetric(float64(notes), "notifications")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		fmt.Printf("crash loop of 1000 reports from one live parent renamed in %v: %d recorded (%d duplicates) in %v, %d group(s), %d notifications, %v of CPU\n", spread.Round(time.Millisecond), len(ids), dups, all.Round(time.Millisecond), len(groups), notes, cpu)
		if len(ids) != 1000 || dups != 0 || notes > 3 || cpu > 2*time.Second || len(groups) != 1 || groups[""] > 0 {
			b.Errorf("burst figures out of bounds")
		}
	}
}

// BenchmarkWatchStartup: 10,000 reports already there; time to watching,
// time to the end of the history sweep, peak RSS.
func BenchmarkWatchStartup(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join("..", "monitor", "report", "testdata", "reports", "*"))
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		reports := filepath.Join(dir, "DiagnosticReports")
		os.MkdirAll(reports, 0o755)
		for j := 0; j < 10000; j++ {
			p := paths[j%len(paths)]
			data, _ := os.ReadFile(p)
			os.WriteFile(filepath.Join(reports, fmt.Sprintf("r%05d-%s", j, filepath.Base(p))), data, 0o644)
		}
		cmd := exec.Command(forkwatchBin(b), "watch", "--json", "--reports-dir", reports, "--cores-dir", "", "--state", filepath.Join(dir, "state.json"))
		cmd.Env = append(testEnv(b), "FORKWATCH_DEBUG=1")
		stderr, _ := cmd.StderrPipe()
		cmd.Stdout = nil
		start := time.Now()
		cmd.Start()
		var watching, swept time.Duration
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			l := sc.Text()
			if watching == 0 && strings.Contains(l, `msg=watching`) {
				watching = time.Since(start)
			}
			if strings.Contains(l, "history sweep done") {
				swept = time.Since(start)
				break
			}
		}
		time.Sleep(1500 * time.Millisecond) // state saved
		hwm := procStatus(b, cmd.Process.Pid, "VmHWM")
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		b.ReportMetric(float64(watching.Milliseconds()), "ms-to-watching")
		b.ReportMetric(float64(swept.Milliseconds()), "ms-to-swept")
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MB")
		fmt.Printf("start-up with 10000 reports: watching after %v, history swept after %v, peak RSS %.1f MB\n", watching.Round(time.Millisecond), swept.Round(time.Millisecond), float64(hwm)/1024)
	}
}
