package doctor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/internal/atomicfile"

	"github.com/forkwatch/forkwatch/internal/interp"
	"github.com/forkwatch/forkwatch/internal/trust"
)

// Probe outcomes.
const (
	Survived = "survived"
	Killed   = "killed"
	Timeout  = "timeout"
	Error    = "error"
)

// ProbeRun is one run of the probe: what became of the forked child.
type ProbeRun struct {
	Outcome string `json:"outcome"`
	// Signal is the signal that killed the child (SIGABRT for the check).
	Signal string `json:"signal,omitempty"`
	// Message is the runtime's objc[PID]: ... fork() line, when printed.
	Message   string `json:"message,omitempty"`
	ExitCode  *int   `json:"exit_code,omitempty"`
	ParentPID int    `json:"parent_pid,omitempty"`
	ChildPID  int    `json:"child_pid,omitempty"`
	// Env says what the parent started with.
	Env    string `json:"env"`
	Detail string `json:"detail,omitempty"`
}

// ProbeResult is the probe of one interpreter.
type ProbeResult struct {
	// Without: the environment apps started now would get (the variable
	// as `launchctl getenv` reports it, removed otherwise).
	Without ProbeRun `json:"without"`
	// With: OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES at start.
	With ProbeRun `json:"with"`
	// Inside: the variable set inside Python (os.environ) just before the
	// fork, as people try: objc4 read it at start-up, so it does not help.
	Inside ProbeRun `json:"inside"`
	// Verdict sums the runs up in one sentence.
	Verdict string `json:"verdict"`
}

// probeScript is the throwaway parent. It forbids core files first (Go has
// lowered the limit before exec too), imports urllib.request as programs
// do, starts a second thread (objc4 arms the check only in the child of a
// multithreaded parent: _objc_atfork_child in runtime/objc-os.mm), forks,
// and in the child looks up the system proxies, which on macOS goes
// through _scproxy into SystemConfiguration, the original bug report's
// trigger. The parent prints the child's pid at once (so it can be
// registered before the crash report appears) and then its fate.
const probeScript = `import os, sys, threading
try:
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except Exception:
    pass
try:
    import urllib.request as ur
except ImportError:
    import urllib as ur
if len(sys.argv) > 1 and sys.argv[1] == 'inside':
    os.environ['OBJC_DISABLE_INITIALIZE_FORK_SAFETY'] = 'YES'
stop = threading.Event()
t = threading.Thread(target=stop.wait)
t.daemon = True
t.start()
sys.stdout.write('FWPROBE threads %d\n' % threading.active_count())
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    code = 0
    try:
        ur.getproxies()
    except BaseException:
        code = 3
    os._exit(code)
sys.stdout.write('FWPROBE child %d\n' % pid)
sys.stdout.flush()
_, status = os.waitpid(pid, 0)
stop.set()
if os.WIFSIGNALED(status):
    sys.stdout.write('FWPROBE signal %d\n' % os.WTERMSIG(status))
else:
    sys.stdout.write('FWPROBE exit %d\n' % os.WEXITSTATUS(status))
sys.stdout.flush()
`

var reObjcFork = regexp.MustCompile(`objc\[[0-9]+\]: [^\n]*fork\(\) was called[^\n]*`)

// probeAll probes the chosen interpreters, a few at a time, each one's
// three runs in turn.
func probeAll(ctx context.Context, o Options, list []Interpreter, launchdValue string) {
	restore, err := lowerCoreLimit()
	if err != nil {
		o.Log.Warn("probe: could not lower the core limit; the probe script sets it itself", "err", err)
	}
	defer restore()
	reg := registry{dir: filepath.Join(o.SupportDir, "probes"), now: o.Now}
	reg.prune()
	chosen := map[string]bool{}
	for _, p := range o.ProbePythons {
		chosen[p] = true
		if r, err := filepath.EvalSymlinks(p); err == nil {
			chosen[r] = true
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range list {
		in := &list[i]
		if in.Skipped != "" || in.Version == "" {
			continue
		}
		if len(chosen) > 0 && !chosen[in.Path] && !chosen[in.RealPath] && !anyChosen(chosen, in.Aliases) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			in.Probe = probeInterpreter(ctx, o, reg, in.Path, launchdValue)
		}()
	}
	wg.Wait()
}

func anyChosen(chosen map[string]bool, paths []string) bool {
	for _, p := range paths {
		if chosen[p] {
			return true
		}
	}
	return false
}

// Probe runs the three probe runs on one interpreter; launchdValue is the
// variable's value in launchd now ("" when unset).
func Probe(ctx context.Context, o Options, python, launchdValue string) *ProbeResult {
	o.fill()
	restore, err := lowerCoreLimit()
	if err != nil {
		o.Log.Warn("probe: could not lower the core limit", "err", err)
	}
	defer restore()
	return probeInterpreter(ctx, o, registry{dir: filepath.Join(o.SupportDir, "probes"), now: o.Now}, python, launchdValue)
}

func probeInterpreter(ctx context.Context, o Options, reg registry, python, launchdValue string) *ProbeResult {
	base := pythonEnv(withoutVar(os.Environ()))
	nowEnv, nowDesc := base, ForkSafetyVar+" unset (as launchd gives apps now)"
	if launchdValue != "" {
		nowEnv = append(append([]string{}, base...), ForkSafetyVar+"="+launchdValue)
		nowDesc = ForkSafetyVar + "=" + launchdValue + " (as launchd gives apps now)"
	}
	withEnv := append(append([]string{}, base...), ForkSafetyVar+"=YES")
	res := &ProbeResult{}
	res.Without = probeRun(ctx, o, reg, python, nowEnv, "plain")
	res.Without.Env = nowDesc
	res.With = probeRun(ctx, o, reg, python, withEnv, "plain")
	res.With.Env = ForkSafetyVar + "=YES at start"
	res.Inside = probeRun(ctx, o, reg, python, base, "inside")
	res.Inside.Env = ForkSafetyVar + " unset at start, set with os.environ before fork()"
	res.Verdict = probeVerdict(o.GOOS, res, launchdValue)
	return res
}

func withoutVar(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, ForkSafetyVar+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func probeVerdict(goos string, r *ProbeResult, launchdValue string) string {
	w, y := r.Without.Outcome, r.With.Outcome
	switch {
	case w == Error || y == Error:
		return "the probe could not run: " + firstNonEmpty(r.Without.Detail, r.With.Detail)
	case w == Timeout || y == Timeout:
		return "the probe timed out"
	case w == Survived && y == Survived && goos != "darwin":
		return "not affected: no Objective-C runtime"
	case w == Killed && y == Survived:
		s := "affected: a forked child that looks up proxies is killed (" + r.Without.Signal + ") in apps started now; " + ForkSafetyVar + "=YES at start stops it"
		if r.Inside.Outcome == Killed {
			s += "; setting it inside Python does not"
		}
		return s
	case w == Survived && y == Survived && launchdValue == "YES":
		return "protected for apps started now: launchd gives them " + ForkSafetyVar + "=YES (the child survived)"
	case w == Survived && y == Survived:
		return "not affected: the forked child survived without the variable"
	case y == Killed:
		return "the child is killed even with the variable: another crash after fork() that the variable does not help"
	}
	return "inconclusive"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// probeRun runs the probe once through interp (the ownership check, then a
// private working folder, removed afterwards, and -E -s), with a time
// limit that kills the whole process group.
func probeRun(ctx context.Context, o Options, reg registry, python string, env []string, mode string) ProbeRun {
	var run ProbeRun
	ctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
	defer cancel()
	cmd, err := interp.Command(ctx, interp.Spec{
		Lang: interp.Python, Path: python, Args: []string{"-c", probeScript, mode}, Env: env, UID: o.uid(), Name: "probe",
	})
	var te *trust.Error
	switch {
	case errors.As(err, &te):
		return ProbeRun{Outcome: Error, Detail: err.Error()}
	case err != nil:
		return ProbeRun{Outcome: Error, Detail: fmt.Sprintf("temporary folder: %v", err)}
	}
	defer cmd.Cleanup()
	cmd.Env = append(cmd.Env, "TMPDIR="+cmd.Private)
	interp.SetProcessGroup(cmd.Cmd)
	cmd.WaitDelay = time.Second
	var stderr limitedBuffer
	stderr.max = 64 << 10
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return ProbeRun{Outcome: Error, Detail: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return ProbeRun{Outcome: Error, Detail: fmt.Sprintf("start %s: %v", python, err)}
	}
	run.ParentPID = cmd.Process.Pid
	reg.add(run.ParentPID, "parent", python, o.Log)
	final := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "FWPROBE" {
			continue
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		switch f[1] {
		case "child":
			run.ChildPID = n
			reg.add(n, "child", python, o.Log)
		case "signal":
			run.Outcome, run.Signal = Killed, signalName(n)
			final = f[1]
		case "exit":
			code := n
			run.ExitCode = &code
			final = f[1]
		}
	}
	werr := cmd.Wait()
	if m := reObjcFork.FindString(stderr.String()); m != "" {
		run.Message = m
	}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		run.Outcome, run.Detail = Timeout, fmt.Sprintf("no answer within %v", o.ProbeTimeout)
	case final == "signal":
	case final == "exit" && *run.ExitCode == 0:
		run.Outcome = Survived
	case final == "exit":
		run.Outcome = Error
		run.Detail = fmt.Sprintf("the child exited with status %d (it could not look up proxies)", *run.ExitCode)
	default:
		run.Outcome = Error
		run.Detail = "the probe parent did not report: " + errText(orErr(werr))
		if s := lastLine(stderr.String()); s != "" {
			run.Detail += ": " + s
		}
	}
	return run
}

func orErr(err error) error {
	if err == nil {
		return errors.New("no output")
	}
	return err
}

// ProbeTTL is how long a probe's pids stay registered: long enough for
// ReportCrash to write the report and the watcher to read it.
const ProbeTTL = 10 * time.Minute

// registry is the folder of probe pids, one small file each, that the
// watcher reads (ProbeMarker) to show the probe's crash reports as probe
// results, not alerts.
type registry struct {
	dir string
	now func() time.Time
}

type probeRecord struct {
	PID         int       `json:"pid"`
	Role        string    `json:"role"`
	Interpreter string    `json:"interpreter"`
	Time        time.Time `json:"time"`
}

func (r registry) add(pid int, role, python string, log interface{ Warn(string, ...any) }) {
	if pid <= 0 || r.dir == "" || r.dir == "probes" {
		return
	}
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		log.Warn("probe registry", "err", err)
		return
	}
	b, _ := json.Marshal(probeRecord{PID: pid, Role: role, Interpreter: python, Time: r.now()})
	if err := atomicfile.WriteAtomic(filepath.Join(r.dir, strconv.Itoa(pid)), append(b, '\n'), 0o600); err != nil {
		log.Warn("probe registry", "err", err)
	}
}

// prune removes registrations older than ProbeTTL and returns the names
// of the registrations left; nil when the folder cannot be read (there is
// none until the first probe).
func (r registry) prune() map[string]bool {
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		return nil
	}
	left := map[string]bool{}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		p := filepath.Join(r.dir, e.Name())
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && r.now().Sub(fi.ModTime()) > ProbeTTL {
			os.Remove(p)
			continue
		}
		left[e.Name()] = true
	}
	return left
}

func (r registry) registered(pid int) bool {
	if pid <= 0 {
		return false
	}
	fi, err := os.Lstat(filepath.Join(r.dir, strconv.Itoa(pid)))
	if err != nil {
		return false
	}
	return fi.Mode().IsRegular() && r.now().Sub(fi.ModTime()) <= ProbeTTL
}

// ProbeMarker returns a watcher enricher (monitor.Config.Enrich) that marks
// the crash reports of `doctor --probe` children as probe results: r.Probe
// is set when the crashed process or its parent is a probe pid registered
// under supportDir/probes in the last ProbeTTL. Stale registrations are
// removed as it goes, so pid reuse after that cannot mislabel a crash.
func ProbeMarker(supportDir string) func(*report.Report) {
	reg := registry{dir: filepath.Join(supportDir, "probes"), now: time.Now}
	return func(r *report.Report) {
		if r == nil {
			return
		}
		// On the detection path: a pid the listing does not hold costs
		// no lookup (with no probe run, the folder is missing and the
		// listing is all).
		left := reg.prune()
		for _, pid := range []int{r.PID, r.ParentPID} {
			if pid > 0 && left[strconv.Itoa(pid)] && reg.registered(pid) {
				r.Probe = true
			}
		}
	}
}
