package main

// The failure cases of issue 22 ("Finished edges"), each as a test against
// the real binary: help and errors, Linux behaviour, one Forkwatch at a
// time, verdicts that never overclaim, history at a glance.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// runSplit runs the binary and returns stdout, stderr and the exit code.
func runSplit(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(forkwatchBin(t), args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// rawGoError matches Go error text that must not reach a user: an
// *fs.PathError ("open X: no such file or directory") or an exec error.
var rawGoError = regexp.MustCompile(`(?m)(^|: )(open|stat|lstat|read) \S+: |exec: "|executable file not found`)

// oneLineError checks that stderr is exactly one line and has no raw Go
// error in it.
func oneLineError(t *testing.T, what, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 {
		t.Errorf("%s: stderr should be one line, got:\n%s", what, stderr)
	}
	if rawGoError.MatchString(stderr) {
		t.Errorf("%s: raw Go error reaches the user: %s", what, stderr)
	}
}

func TestHelpAndUsageErrors(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	// help CMD is that command's help, not the general usage.
	out, _, code := runSplit(t, env, "help", "inspect")
	if code != 0 || !strings.Contains(out, "forkwatch inspect [--json] FILE...") || strings.Contains(out, "Available Commands") {
		t.Errorf("help inspect: exit %d\n%s", code, out)
	}
	// Every command's --help exits 0.
	for _, c := range [][]string{{"inspect"}, {"watch"}, {"status"}, {"set"}, {"uninstall"}, {"doctor"}, {"history"},
		{"trace"}, {"trace", "enable"}, {"trace", "disable"}, {"trace", "status"}, {"trace", "show"}, {"trace", "sweep"},
		{"notify"}, {"completion"}, {"completion", "zsh"}} {
		out, errOut, code := runSplit(t, env, append(c, "--help")...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%v --help: exit %d\n%s%s", c, code, out, errOut)
		}
	}
	// The usage lists trace show/sweep and history's flags.
	out, _, _ = runSplit(t, env, "trace", "--help")
	for _, w := range []string{"show", "sweep", "enable", "disable", "status"} {
		if !strings.Contains(out, "  "+w) {
			t.Errorf("trace --help lacks %s:\n%s", w, out)
		}
	}
	out, _, _ = runSplit(t, env, "history", "--help")
	for _, w := range []string{"--limit", "--db", "--out", "--all"} {
		if !strings.Contains(out, w) {
			t.Errorf("history --help lacks %s", w)
		}
	}

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--versoin"}, 2, "unknown flag: --versoin"},
		{[]string{"inspct"}, 2, `did you mean "inspect"`},
		{[]string{"trace", "enabel", "x"}, 2, `did you mean "enable"`},
		{[]string{"set", "ulimit-core", "yes"}, 2, `"yes" is not on or off`},
		{[]string{"set", "nope", "on"}, 2, `no toggle "nope"`},
		{[]string{"history", "--limit", "-3"}, 2, "--limit -3"},
		{[]string{"history", "--limit", "0"}, 2, "--limit 0"},
		{[]string{"trace", "show", "x"}, 2, `"x" is not a process id`},
		{[]string{"inspect"}, 2, "name at least one crash report"},
		{[]string{"watch", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		out, errOut, code := runSplit(t, env, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, out, errOut, c.code, c.want)
		}
		oneLineError(t, strings.Join(c.args, " "), errOut)
	}
}

// TestInspectErrors: the path once, on stderr, without Go's "open X:".
func TestInspectErrors(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	out, errOut, code := runSplit(t, env, "inspect", "/no/such/Python.ips")
	if code != 1 || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if strings.Count(errOut, "/no/such/Python.ips") != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("stderr should name the path once: %q", errOut)
	}
	oneLineError(t, "inspect missing", errOut)
	// --json keeps one line per file on stdout, with its error.
	out, _, code = runSplit(t, env, "inspect", "--json", "/no/such/Python.ips")
	var line map[string]any
	if code != 1 || json.Unmarshal([]byte(out), &line) != nil || line["error"] == nil {
		t.Errorf("inspect --json missing: exit %d %q", code, out)
	}
}

// TestTraceEdges: a script named instead of a venv is explained; a record
// of a one-thread parent says "1 thread".
func TestTraceEdges(t *testing.T) {
	e := newTraceEnv(t)
	script := filepath.Join(e.home, "forker.py")
	os.WriteFile(script, []byte("import os\nos.fork()\n"), 0o644)
	_, errOut, code := e.run("trace", "enable", script)
	if code != 2 || !strings.Contains(errOut, "is a Python script, not an interpreter") || strings.Contains(errOut, "command not found") {
		t.Errorf("trace enable forker.py: exit %d %q", code, errOut)
	}
	oneLineError(t, "trace enable forker.py", errOut)
	_, errOut, code = e.run("trace", "enable", filepath.Join(e.home, "nope"))
	if code != 2 || !strings.Contains(errOut, "no such file or folder") {
		t.Errorf("trace enable missing: exit %d %q", code, errOut)
	}

	rec := forktrace.Record{PID: 4242, PPID: 4241, Time: float64(time.Now().Unix()), Format: 1, Python: "3.12.1", Threads: 1, Argv0: "forker.py",
		Stack: []report.ForkFrame{{File: "/src/forker.py", Line: 8, Function: "run_jobs"}}}
	spool := e.spool()
	if err := forktrace.CreateRing(spool); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rec)
	f, err := os.OpenFile(forktrace.RingPath(spool), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(append(b, '\n'), int64(rec.PID%forktrace.Slots)*forktrace.SlotSize)
	f.Close()
	out, errOut, code := e.run("trace", "show", "4242")
	if code != 0 || !strings.Contains(out, "single-threaded)") || strings.Contains(out, "thread)") {
		t.Errorf("trace show: exit %d %q %q", code, out, errOut)
	}
	// Issue 32: a single-threaded parent was "0 threads".
	for _, c := range []struct {
		n        int
		threaded bool
		want     string
	}{{0, false, "single-threaded"}, {1, false, "single-threaded"}, {1, true, "threaded"}, {3, true, "3 threads"}} {
		if got := threadsWord(c.n, c.threaded); got != c.want {
			t.Errorf("threadsWord(%d, %v) = %q, want %q", c.n, c.threaded, got, c.want)
		}
	}
}

// TestNotifyWithoutDesktop: no session bus, one line, and no session bus
// started (a fake dbus-launch first on PATH records any call).
func TestNotifyWithoutDesktop(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	home := envValue(env, "HOME")
	marker := filepath.Join(home, "dbus-launched")
	for _, name := range []string{"dbus-launch", "dbus-daemon"} {
		os.WriteFile(filepath.Join(home, "fakebin", name), []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755)
	}
	out, errOut, code := runSplit(t, env, "notify", "--test")
	if code != 1 || out != "" || !strings.Contains(errOut, "no desktop session") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	oneLineError(t, "notify --test", errOut)
	if _, err := os.Stat(marker); err == nil {
		t.Error("a session bus was launched")
	}
}

// TestMacOnlyTogglesOnLinux: status says "macOS only" and exits 0; set
// refuses before touching anything (no ~/Library left); uninstall exits 0.
func TestMacOnlyTogglesOnLinux(t *testing.T) {
	t.Parallel()
	env := testEnv(t) // no FORKWATCH_PLATFORM, no fake launchctl
	home := envValue(env, "HOME")
	out, errOut, code := runSplit(t, env, "status")
	if code != 0 || strings.Count(out, "macOS only") != 2 || strings.Contains(out+errOut, "command not found") {
		t.Errorf("status: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runSplit(t, env, "status", "--json")
	var st map[string]map[string]any
	if code != 0 || unmarshalStatus([]byte(out), &st) != nil || !strings.Contains(st["coredump-off"]["detail"].(string), "macOS only") {
		t.Errorf("status --json: exit %d %s", code, out)
	}
	for _, name := range []string{"fork-safety-off", "coredump-off"} {
		_, errOut, code := runSplit(t, env, "set", name, "on")
		if code != 1 || !strings.Contains(errOut, "macOS only") || strings.Contains(errOut, "osascript") {
			t.Errorf("set %s on: exit %d %q", name, code, errOut)
		}
		oneLineError(t, "set "+name, errOut)
	}
	if _, err := os.Stat(filepath.Join(home, "Library")); err == nil {
		t.Error("set of a macOS-only toggle left ~/Library behind")
	}
	out, errOut, code = runSplit(t, env, "uninstall")
	if code != 0 || !strings.Contains(out, "coredump-off: macOS only") {
		t.Errorf("uninstall: exit %d\n%s%s", code, out, errOut)
	}
}

// TestOneForkwatchAtATime: a second watch says which pid runs and exits 1;
// with --read-only it runs beside it.
func TestOneForkwatchAtATime(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	reports := filepath.Join(envValue(env, "HOME"), "reports")
	os.MkdirAll(reports, 0o755)
	cmd := exec.Command(forkwatchBin(t), "watch", "--json", "--reports-dir", reports, "--cores-dir", "")
	cmd.Env = env
	var firstErr bytes.Buffer
	cmd.Stderr = &firstErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	deadline := time.Now().Add(wait)
	lock := filepath.Join(envValue(env, "XDG_CONFIG_HOME"), "forkwatch", appinfo.InstanceLockName)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(lock); len(b) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, errOut, code := runSplit(t, env, "watch", "--json", "--reports-dir", reports, "--cores-dir", "")
	want := "already running (pid " + strconv.Itoa(cmd.Process.Pid) + ")"
	if code != 1 || out != "" || !strings.Contains(errOut, want) {
		t.Errorf("second watch: exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
	oneLineError(t, "second watch", errOut)

	ro := exec.Command(forkwatchBin(t), "watch", "--json", "--read-only", "--reports-dir", reports, "--cores-dir", "")
	ro.Env = env
	var roOut bytes.Buffer
	ro.Stdout = &roOut
	if err := ro.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(reports, "monerod.ips"))
	time.Sleep(time.Second)
	ro.Process.Signal(os.Interrupt)
	ro.Wait()
	if !strings.Contains(roOut.String(), `"process":"monerod"`) {
		t.Errorf("--read-only watch saw nothing: %q", roOut.String())
	}
}

// TestWatchFolderMistakes: a file given as a folder is called a file (exit
// 2); a missing folder is said once with what to do, then watched when it
// appears.
func TestWatchFolderMistakes(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	home := envValue(env, "HOME")
	file := filepath.Join(home, "notes.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	_, errOut, code := runSplit(t, env, "watch", "--reports-dir", file, "--cores-dir", "")
	if code != 2 || !strings.Contains(errOut, file+" is a file, not a folder") || strings.Contains(errOut, "not a directory") {
		t.Errorf("file as folder: exit %d %q", code, errOut)
	}
	oneLineError(t, "file as folder", errOut)

	typo := filepath.Join(home, "DiagnostcReports")
	p := startForkwatch(t, []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config")}, "watch", "--json", "--reports-dir", typo, "--cores-dir", "", "--state", "")
	for deadline := time.Now().Add(wait); time.Now().Before(deadline) && !strings.Contains(p.stderr(), "does not exist yet"); {
		time.Sleep(50 * time.Millisecond)
	}
	settle() // no second note follows
	if n := strings.Count(p.stderr(), "does not exist yet"); n != 1 || !strings.Contains(p.stderr(), "check the spelling") {
		t.Errorf("missing folder said %d times: %q", n, p.stderr())
	}
	os.MkdirAll(typo, 0o755)
	p.waitLog("watching folder\" path="+typo, 1)
	copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(typo, "m.ips"))
	if ev := p.event(wait); ev["process"] != "monerod" {
		t.Errorf("the folder that appeared is not watched: %v", ev)
	}
}

// TestPartialReportWatchedOnce: an excerpt dropped into the watched folder
// is classified as partial (like inspect), recorded once, and not reported
// again at the next start.
func TestPartialReportWatchedOnce(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	data, _ := os.ReadFile(sample("python39-rq-objc-fork-django-rq-574.ips"))
	os.WriteFile(filepath.Join(s.reports, "excerpt.ips"), data[:len(data)*2/3], 0o644)

	p := startForkwatch(t, nil, s.args()...)
	ev := p.event(wait)
	if ev["kind"] != "crash" || ev["partial"] != true {
		t.Fatalf("excerpt: %v", ev)
	}
	p.quiet(1500 * time.Millisecond)
	p.stop()
	p = startForkwatch(t, nil, s.args()...)
	p.quiet(2500 * time.Millisecond) // longer than --quiet-after
}

// TestVerdictsNeverOverclaim: the reports, each with what it must
// and must not say.
func TestVerdictsNeverOverclaim(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	header := filepath.Join(t.TempDir(), "Python-header.crash")
	data, _ := os.ReadFile(sample("python38-clt-sigsegv-numpy-17964.crash"))
	if i := bytes.Index(data, []byte("\nCrashed Thread")); i > 0 {
		data = data[:i+1]
	}
	if i := bytes.Index(data, []byte("\nException Type")); i > 0 {
		data = data[:i+1]
	}
	os.WriteFile(header, data, 0o644)
	for _, c := range []struct {
		file      string
		want, not []string
	}{
		{header, []string{"not enough of the report to tell"}, []string{"not after fork()", "not from fork()", "(–)"}},
		{sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), []string{"monerod crashed in a forked child", "posix_spawn"}, []string{"multiprocessing", "set_start_method"}},
		{sample("virtualbox-libdispatch-fork-child-vagrant-notes.crash"), []string{"posix_spawn"}, []string{"multiprocessing", "set_start_method"}},
		{sample("rust-bootstrap-os-once-fork-child-travis.crash"), []string{"posix_spawn"}, []string{"multiprocessing", "set_start_method"}},
		{sample("python312-translated-objc-langflow-3111.crash"), []string{"does not show whether it was a forked child"}, []string{"not after fork()"}},
	} {
		out, errOut, code := runSplit(t, env, "inspect", c.file)
		if code != 0 {
			t.Errorf("%s: exit %d %s", c.file, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: want %q in\n%s", filepath.Base(c.file), w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: must not say %q:\n%s", filepath.Base(c.file), n, out)
			}
		}
	}
}

// TestHistoryDefaultListing: plain history shows the most recent 50 and
// says how many more and how; --all shows every one; columns keep their
// width.
func TestHistoryDefaultListing(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	db := filepath.Join(t.TempDir(), "history.db")
	seedHistoryDB(t, db, time.Now(), 3, 40) // 120 crashes
	out, errOut, code := runSplit(t, env, "history", "--db", db)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != 0 || len(lines) != 1+50+1 {
		t.Fatalf("exit %d, %d lines\n%s%s", code, len(lines), out, errOut)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "70 older crashes (120 in all)") || !strings.Contains(last, "--all") {
		t.Errorf("note: %q", last)
	}
	col := strings.Index(lines[0], "CAUSE")
	for _, l := range lines[1:51] {
		if strings.Index(l, " "+strings.Fields(l[col:])[0]) != col-1 {
			t.Fatalf("columns shift:\n%s\n%s", lines[0], l)
		}
	}
	out, _, _ = runSplit(t, env, "history", "--db", db, "--all")
	if n := strings.Count(out, "\n"); n != 121 {
		t.Errorf("--all printed %d lines", n)
	}
	out, errOut, _ = runSplit(t, env, "history", "--db", db, "--json")
	if n := strings.Count(out, "\n"); n != 50 || !strings.Contains(errOut, "70 older crashes") {
		t.Errorf("--json: %d lines, stderr %q", n, errOut)
	}
}

// TestSetRecordsToggle: `set` records the change in the history like the
// menu, also while another Forkwatch holds the database.
func TestSetRecordsToggle(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	dbPath := filepath.Join(envValue(env, "XDG_CONFIG_HOME"), "forkwatch", "history.db")
	if _, errOut, code := runSplit(t, env, "set", "ulimit-core", "on"); code != 0 {
		t.Fatalf("set: %d %s", code, errOut)
	}
	// Now with the database held, as by a running watch.
	held, err := history.Open(dbPath, history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runSplit(t, env, "set", "ulimit-core", "off"); code != 0 {
		t.Fatalf("set off: %d %s", code, errOut)
	}
	held.Close()
	r, err := history.OpenReader(dbPath, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tg, err := r.Toggles(context.Background(), time.Time{})
	if err != nil || len(tg) != 2 || tg[0].Name != "ulimit-core" || !tg[0].On || tg[1].On {
		t.Errorf("toggles recorded: %+v %v", tg, err)
	}
}

// TestCompletionLoadsInZsh: `forkwatch completion zsh` is a completion
// function a real zsh loads with compinit.
func TestCompletionLoadsInZsh(t *testing.T) {
	t.Parallel()
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("no zsh (CI installs it)")
	}
	env := testEnv(t)
	out, _, code := runSplit(t, env, "completion", "zsh")
	if code != 0 || !strings.HasPrefix(out, "#compdef forkwatch") {
		t.Fatalf("completion zsh: exit %d", code)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "_forkwatch"), []byte(out), 0o644)
	script := `fpath=(` + dir + ` $fpath); autoload -U compinit; compinit -u -d ` + filepath.Join(dir, "zcompdump") + `
print -r -- "${_comps[forkwatch]}"
whence -w _forkwatch`
	cmd := exec.Command(zsh, "-f", "-c", script)
	cmd.Env = env
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "_forkwatch") || !strings.Contains(string(got), "_forkwatch: function") {
		t.Errorf("zsh did not load the completion: %v\n%s", err, got)
	}
	for _, shell := range []string{"bash", "fish"} {
		if out, _, code := runSplit(t, env, "completion", shell); code != 0 || len(out) < 100 {
			t.Errorf("completion %s: exit %d", shell, code)
		}
	}
}
