package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/internal/syscmd"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// lldb's crash-log symbolication is the crashlog command of the
// lldb.macosx.crashlog module that ships with lldb (llvm-project
// lldb/examples/python/crashlog.py: "command script import
// lldb.macosx.crashlog", then "crashlog PATH"; the command leaves a target
// with the report's images loaded at their crash-time addresses). The
// module reads its arguments with Python's shlex.split, and its own
// interactive mode re-runs lldb as
// lldb -o "command script import lldb.macosx" -o "crashlog <shlex.join(args)>"
// (reviews.llvm.org/D152319), so the report's path is quoted the shlex way.
// A core file is loaded with lldb's --core and --file options (lldb(1):
// "-c, --core <filename>", "-f, --file <filename>").
const crashlogImport = "command script import lldb.macosx.crashlog"

// debugPlan is the debugger command for one report or core file: the argv
// to run and what to know before running it.
type debugPlan struct {
	Kind   string   `json:"kind"` // "report" or "core"
	Target string   `json:"target"`
	Argv   []string `json:"argv"`
	Notes  []string `json:"notes,omitempty"`
}

const debugUsage = `usage: forkwatch debug [--open | --exec] [--exe PATH] [--json] REPORT|CORE
  prints the lldb command for a crash report (lldb's crashlog symbolication)
  or a core file (lldb --core CORE --file EXE, the executable from the
  matching report in the history, or --exe)
  --open   open it in Terminal (macOS)
  --exec   run it here
`

// runDebug is `forkwatch debug`. Exit codes: 0 done, 1 failed, 2 usage
// error; with --exec, lldb's own.
func runDebug(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("debug", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, debugUsage) }
	open := fs.Bool("open", false, "open the command in Terminal (macOS)")
	run := fs.Bool("exec", false, "run lldb here, in this terminal")
	exe := fs.String("exe", "", "with a core file: the executable that crashed")
	dbPath := fs.String("db", appinfo.HistoryDBPath(), "history database (to find a core file's executable)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	planFile := fs.String("exec-plan", "", "internal: run the plan a Terminal .command file names")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *planFile != "" {
		if err := execPlanFile(*planFile); err != nil {
			fmt.Fprintln(stderr, "debug:", err)
			return 1
		}
		return 0
	}
	if fs.NArg() != 1 || (*open && *run) {
		fmt.Fprint(stderr, debugUsage)
		return 2
	}
	plan, err := planDebug(ctx, fs.Arg(0), *exe, *dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "debug:", err)
		return 1
	}
	switch {
	case *asJSON:
		writeJSONLine(stdout, plan)
	default:
		printPlan(stdout, plan)
	}
	switch {
	case *run:
		return execPlan(ctx, plan, stdout, stderr)
	case *open:
		cmdFile, err := openInTerminal(ctx, runtime.GOOS, "", plan)
		if err != nil {
			fmt.Fprintln(stderr, "debug:", err)
			return 1
		}
		fmt.Fprintln(stdout, "Opened in Terminal:", cmdFile)
	}
	return 0
}

// printPlan shows the command as a person would type it (quoted for a
// POSIX shell; the words are run as argv, never through a shell) and the
// notes.
func printPlan(w io.Writer, plan debugPlan) {
	words := make([]string, len(plan.Argv))
	for i, a := range plan.Argv {
		words[i] = shellQuote(a)
	}
	fmt.Fprintln(w, strings.Join(words, " "))
	for _, n := range plan.Notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// planDebug builds the lldb command for a report or a core file. The
// target must be a regular file the user owns, or one in a folder
// Forkwatch watches (the system DiagnosticReports folder, the core
// folder), and not writable by others: lldb is never pointed at a file
// someone else can swap.
func planDebug(ctx context.Context, target, exe, dbPath string) (debugPlan, error) {
	real, err := checkDebugTarget(target)
	if err != nil {
		return debugPlan{}, err
	}
	if report.IsReportName(filepath.Base(real)) {
		return planReport(real)
	}
	return planCore(ctx, real, exe, dbPath)
}

func planReport(real string) (debugPlan, error) {
	r, err := report.ReadFile(real)
	if r == nil {
		return debugPlan{}, fmt.Errorf("read %s: %w", real, err)
	}
	arg := real
	if hasControl(real) {
		// A name with a newline or another control character cannot be
		// one line of an lldb command: lldb gets a link with a plain name
		// in Forkwatch's own folder instead.
		alias, err := plainAlias(real)
		if err != nil {
			return debugPlan{}, err
		}
		arg = alias
	}
	plan := debugPlan{Kind: "report", Target: real, Argv: []string{"lldb", "-o", crashlogImport, "-o", "crashlog " + shlexQuote(arg)}}
	if arg != real {
		plan.Notes = append(plan.Notes, "The report's name holds a control character; lldb reads it through the link "+arg+".")
	}
	plan.Notes = append(plan.Notes, "lldb's crashlog loads the report's images at their crash-time addresses: 'bt' shows the crashed thread, 'image lookup -a ADDR' any address.")
	if n := pythonDebugNote(r); n != "" {
		plan.Notes = append(plan.Notes, n)
	}
	return plan, nil
}

var reCorePID = regexp.MustCompile(`(?:^|\D)(\d{2,})$`)

func planCore(ctx context.Context, real, exe, dbPath string) (debugPlan, error) {
	plan := debugPlan{Kind: "core", Target: real, Argv: []string{"lldb", "--core", real}}
	from := "--exe"
	if exe == "" {
		pid := 0
		if m := reCorePID.FindStringSubmatch(filepath.Base(real)); m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		if r, err := history.OpenReader(dbPath, time.Local); err == nil {
			var reportPath string
			exe, reportPath, err = r.CoreExecutable(ctx, real, pid)
			r.Close()
			if err != nil {
				return debugPlan{}, err
			}
			from = "the crash report " + reportPath
		}
	}
	switch {
	case exe == "":
		plan.Notes = append(plan.Notes, "No crash report of this process is in the history: lldb reads the images from the core alone. Pass --exe PATH to name the executable.")
	default:
		abs, err := filepath.Abs(exe)
		fi, serr := os.Stat(abs)
		if err != nil || serr != nil || !fi.Mode().IsRegular() {
			if from == "--exe" {
				return debugPlan{}, fmt.Errorf("--exe %s: not a regular file", exe)
			}
			plan.Notes = append(plan.Notes, fmt.Sprintf("The executable %s (from %s) is not on this Mac: lldb reads the images from the core alone. Pass --exe PATH to name it.", report.Clean(exe, 1024), report.Clean(from, 1024)))
			break
		}
		plan.Argv = append(plan.Argv, "--file", abs)
		plan.Notes = append(plan.Notes, "Executable from "+report.Clean(from, 1024)+".")
	}
	if hasControl(real) {
		return debugPlan{}, fmt.Errorf("%q: a core file name with a control character; rename it", real)
	}
	return plan, nil
}

// checkDebugTarget resolves symlinks and checks the file is one lldb may
// be pointed at.
func checkDebugTarget(target string) (string, error) {
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("%s: %w", target, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("%s: %w", target, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", target)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("%s: writable by others (mode %v); Forkwatch does not point lldb at it", target, fi.Mode().Perm())
	}
	owner, ok := fileOwner(fi)
	if ok && owner == os.Getuid() {
		return real, nil
	}
	for _, d := range append(appinfo.DefaultReportDirs(), "/cores") {
		if filepath.Dir(real) == filepath.Clean(d) {
			return real, nil
		}
	}
	return "", fmt.Errorf("%s: not yours and not in a folder Forkwatch watches", target)
}

// pythonDebugNote says what CPython offers a debugger: python-gdb.py (the
// py-bt, py-list and py-locals commands) is gdb's alone, "built with Python,
// but might be distributed separately or not at all"
// (docs.python.org/3/howto/gdb_helpers.html); a source build leaves it
// beside the interpreter, Debian's python3-dbg under
// /usr/share/gdb/auto-load. lldb has no such helper in CPython: it shows
// the C frames.
func pythonDebugNote(r *report.Report) string {
	if report.RuntimeOrOther(r) != report.RuntimePython {
		return ""
	}
	exe := r.ExePath
	if exe != "" && !strings.Contains(exe, "*") {
		cands := []string{exe + "-gdb.py", filepath.Join(filepath.Dir(exe), "python-gdb.py"), filepath.Join("/usr/share/gdb/auto-load", exe+"-gdb.py")}
		if real, err := filepath.EvalSymlinks(exe); err == nil && real != exe {
			cands = append(cands, real+"-gdb.py", filepath.Join("/usr/share/gdb/auto-load", real+"-gdb.py"))
		}
		for _, c := range cands {
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
				return "Python: this interpreter ships CPython's gdb helpers (" + c + ": py-bt, py-list, py-locals), for gdb only; in lldb the Python frames show as _PyEval_EvalFrameDefault."
			}
		}
	}
	return "Python: CPython's debugger helpers (python-gdb.py: py-bt, py-list) are for gdb only, and this interpreter ships none beside it; in lldb the Python frames show as _PyEval_EvalFrameDefault (docs.python.org/3/howto/gdb_helpers.html)."
}

// execPlan runs lldb with the plan's argv, in this terminal.
func execPlan(ctx context.Context, plan debugPlan, stdout, stderr io.Writer) int {
	path, err := exec.LookPath(plan.Argv[0])
	if err != nil {
		fmt.Fprintln(stderr, "debug: lldb not found (it comes with Xcode's Command Line Tools: xcode-select --install):", err)
		return 1
	}
	cmd := exec.CommandContext(ctx, path, plan.Argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(stderr, "debug:", err)
		return 1
	}
	return 0
}

// debugDir holds the Terminal .command files, their plans and the links
// for report names lldb cannot take: only the user can enter it.
func debugDir() (string, error) {
	d := filepath.Join(appinfo.SupportDir(), "debug")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", d, err)
	}
	if err := os.Chmod(d, 0o700); err != nil {
		return "", fmt.Errorf("chmod %s: %w", d, err)
	}
	return d, nil
}

// plainAlias is a symlink with a plain name in debugDir to the report.
func plainAlias(real string) (string, error) {
	d, err := debugDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(real))
	alias := filepath.Join(d, "report-"+hex.EncodeToString(sum[:6])+filepath.Ext(real))
	os.Remove(alias)
	if err := os.Symlink(real, alias); err != nil {
		return "", fmt.Errorf("link %s: %w", alias, err)
	}
	return alias, nil
}

// openInTerminal opens the plan in Terminal on macOS. Terminal runs a
// .command file; building its shell text from the report's or core's name
// would let a hostile file name run code. So the .command file holds no
// data at all: it execs this Forkwatch (its own path, quoted) with
// --exec-plan and its own name plus ".plan", and the plan beside it holds
// lldb's argv as JSON; `forkwatch debug --exec-plan` checks the plan is
// Forkwatch's (a regular file in the private debug folder, owned by the
// user, mode 0600), removes it and execs lldb with that argv. Both files
// are written atomically, the .command one 0700 so that Terminal may run
// it; `open -a Terminal FILE` gets the path as one argument. self is this
// executable ("" for os.Executable). Elsewhere nothing opens and the
// command is only printed. It returns the .command file.
func openInTerminal(ctx context.Context, goos, self string, plan debugPlan) (string, error) {
	if goos != "darwin" {
		return "", fmt.Errorf("--open opens Terminal on macOS; on %s run the command above (or use --exec)", goos)
	}
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find this executable: %w", err)
		}
	}
	if hasControl(self) {
		return "", fmt.Errorf("this executable's path %q holds a control character", self)
	}
	d, err := debugDir()
	if err != nil {
		return "", err
	}
	cleanDebugDir(d, time.Now().Add(-24*time.Hour))
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	cmdFile := filepath.Join(d, "lldb-"+hex.EncodeToString(rnd[:])+".command")
	js, err := json.Marshal(plan)
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteAtomic(cmdFile+".plan", js, 0o600); err != nil {
		return "", fmt.Errorf("write %s.plan: %w", cmdFile, err)
	}
	script := "#!/bin/sh\n# Written by Forkwatch: runs lldb with the arguments in the .plan file beside it.\nexec " + shellQuote(self) + " debug --exec-plan \"$0.plan\"\n"
	if err := atomicfile.WriteAtomic(cmdFile, []byte(script), 0o700); err != nil {
		return "", fmt.Errorf("write %s: %w", cmdFile, err)
	}
	if _, err := syscmd.Run(ctx, 30*time.Second, "open", "-a", "Terminal", cmdFile); err != nil {
		return "", fmt.Errorf("open Terminal: %w", err)
	}
	return cmdFile, nil
}

// cleanDebugDir removes the .command files and plans of earlier sessions.
func cleanDebugDir(d string, before time.Time) {
	ents, _ := os.ReadDir(d)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(before) && strings.HasPrefix(e.Name(), "lldb-") {
			os.Remove(filepath.Join(d, e.Name()))
		}
	}
}

// execPlanFile runs a plan a .command file named: only one of
// Forkwatch's own (in the private debug folder, the user's, 0600), used
// once.
func execPlanFile(p string) error {
	d, err := debugDir()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	if filepath.Dir(abs) != d {
		return fmt.Errorf("%s: not a plan in %s", p, d)
	}
	fi, err := os.Lstat(abs)
	if err != nil {
		return err
	}
	owner, ok := fileOwner(fi)
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || (ok && owner != os.Getuid()) {
		return fmt.Errorf("%s: not a plan Forkwatch wrote (mode %v)", p, fi.Mode())
	}
	js, err := os.ReadFile(abs)
	if err != nil {
		return err
	}
	os.Remove(abs)
	var plan debugPlan
	if err := json.Unmarshal(js, &plan); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	if len(plan.Argv) < 2 || plan.Argv[0] != "lldb" {
		return fmt.Errorf("%s: not an lldb plan", p)
	}
	lldb, err := exec.LookPath("lldb")
	if err != nil {
		return fmt.Errorf("lldb not found (xcode-select --install): %w", err)
	}
	return execProcess(lldb, plan.Argv, os.Environ())
}

// shellQuote quotes a word for a POSIX shell, for display: plain words
// as they are, anything else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// shlexQuote is Python's shlex.quote, which crashlog's shlex.split undoes:
// the same single-quote form.
func shlexQuote(s string) string { return shellQuote(s) }

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
