// Package lldb turns a crash report or a core file into the lldb command
// that debugs it (crashlog for a report, --core and --file for a core), and
// runs it here or in a Terminal window on macOS without letting a file
// name become shell text. `forkwatch debug` and the menu's "Debug in lldb…"
// use it; the file it is pointed at must be one the user owns (or one in a
// folder Forkwatch watches) and that nobody else can write.
package lldb

import (
	"context"
	"debug/elf"
	"debug/macho"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/internal/lldbarg"
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
// (reviews.llvm.org/D152319), so the report's path is quoted the shlex way
// (lldbarg.CrashlogCommand), and only a plain path is ever quoted: lldb's
// command interpreter expands backticks before the command runs, inside
// quotes too (internal/lldbarg says why and cites lldb's tests).
// A core file is loaded with lldb's --core and --file options (lldb(1):
// "-c, --core <filename>", "-f, --file <filename>").
const CrashlogImport = "command script import lldb.macosx.crashlog"

// Plan is the debugger command for one report or core file: the argv
// to run and what to know before running it.
type Plan struct {
	Kind   string   `json:"kind"` // "report" or "core"
	Target string   `json:"target"`
	Argv   []string `json:"argv"`
	Notes  []string `json:"notes,omitempty"`
}

// Print shows the command as a person would type it (quoted for a
// POSIX shell; the words are run as argv, never through a shell) and the
// notes.
func Print(w io.Writer, plan Plan) {
	words := make([]string, len(plan.Argv))
	for i, a := range plan.Argv {
		words[i] = ShellQuote(a)
	}
	fmt.Fprintln(w, strings.Join(words, " "))
	for _, n := range plan.Notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// PlanFor builds the lldb command for a report or a core file. The
// target must be a regular file the user owns, or one in a folder
// Forkwatch watches (the system DiagnosticReports folder, the core
// folder), and not writable by others: lldb is never pointed at a file
// someone else can swap.
func PlanFor(ctx context.Context, target, exe, dbPath string) (Plan, error) {
	real, err := checkDebugTarget(target)
	if err != nil {
		return Plan{}, err
	}
	if report.IsReportName(filepath.Base(real)) {
		return planReport(real)
	}
	if !isCoreFile(real) {
		return Plan{}, fmt.Errorf("%s: %w", target, ErrNotDebuggable)
	}
	return planCore(ctx, real, exe, dbPath)
}

// ErrNotDebuggable is a file that is neither a crash report (by its name:
// .ips, .crash) nor a core file (by its header): lldb is not pointed at it.
var ErrNotDebuggable = errors.New("neither a crash report (.ips, .crash) nor a core file; nothing to debug")

// isCoreFile says whether the file starts as a core file does: a Mach-O
// header of file type MH_CORE (macOS: <mach-o/loader.h>, "#define MH_CORE
// 0x4 /* core file */", after the magic, cputype and cpusubtype words), or
// an ELF header of type ET_CORE (the Linux cores of development machines:
// elf(5), e_type at offset 16). Both byte orders are accepted.
func isCoreFile(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch m := bo.Uint32(h[0:4]); m {
		case macho.Magic32, macho.Magic64:
			return bo.Uint32(h[12:16]) == machoTypeCore
		}
	}
	if string(h[:4]) == elf.ELFMAG {
		bo := binary.ByteOrder(binary.LittleEndian)
		if elf.Data(h[elf.EI_DATA]) == elf.ELFDATA2MSB {
			bo = binary.BigEndian
		}
		return elf.Type(bo.Uint16(h[16:18])) == elf.ET_CORE
	}
	return false
}

// machoTypeCore is MH_CORE; debug/macho names only the object, executable,
// dylib and bundle types.
const machoTypeCore = 4

func planReport(real string) (Plan, error) {
	r, err := report.ReadFile(real)
	if r == nil {
		return Plan{}, fmt.Errorf("read %s: %w", real, err)
	}
	arg, note, err := plainPath("report", real)
	if err != nil {
		return Plan{}, err
	}
	cmd, err := lldbarg.CrashlogCommand(arg)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Kind: "report", Target: real, Argv: []string{"lldb", "-o", CrashlogImport, "-o", cmd}}
	if note != "" {
		plan.Notes = append(plan.Notes, note)
	}
	plan.Notes = append(plan.Notes, "lldb's crashlog loads the report's images at their crash-time addresses: 'bt' shows the crashed thread, 'image lookup -a ADDR' any address.")
	if n := pythonDebugNote(r); n != "" {
		plan.Notes = append(plan.Notes, n)
	}
	return plan, nil
}

// plainPath is the path lldb gets for p: p itself when it is plain
// (lldbarg.Plain: nothing in it lldb's command interpreter treats
// specially), else a link with a plain name (report-<12 hex>.ips,
// core-…, exe-…) in the private debug folder, with a note saying so.
// lldb expands backticks even inside single quotes, so no quoting would
// do (internal/lldbarg).
func plainPath(prefix, p string) (arg, note string, err error) {
	if lldbarg.Plain(p) {
		return p, "", nil
	}
	d, err := Dir()
	if err != nil {
		return "", "", err
	}
	defer d.Close()
	alias, err := lldbarg.Alias(d, prefix, p)
	if err != nil {
		return "", "", err
	}
	return alias, fmt.Sprintf("The %s's name holds %s, which lldb would read as more than a name; lldb reads it through the link %s.", prefix, lldbarg.Special(p), alias), nil
}

var reCorePID = regexp.MustCompile(`(?:^|\D)(\d{2,})$`)

func planCore(ctx context.Context, real, exe, dbPath string) (Plan, error) {
	exe, from, err := coreExecutableFromHistory(ctx, real, exe, dbPath)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Kind: "core", Target: real}
	coreArg, note, err := plainPath("core", real)
	if err != nil {
		return Plan{}, err
	}
	if note != "" {
		plan.Notes = append(plan.Notes, note)
	}
	exeArg, notes, err := coreExecutableArg(exe, from)
	if err != nil {
		return Plan{}, err
	}
	plan.Notes = append(plan.Notes, notes...)
	args, err := lldbarg.CoreArgs(coreArg, exeArg)
	if err != nil {
		return Plan{}, err
	}
	plan.Argv = append([]string{"lldb"}, args...)
	return plan, nil
}

// coreExecutableFromHistory returns exe (--exe) as it is, or the
// executable the crash report of the core's process names in the history,
// and where it came from.
func coreExecutableFromHistory(ctx context.Context, real, exe, dbPath string) (string, string, error) {
	if exe != "" {
		return exe, "--exe", nil
	}
	pid := 0
	if m := reCorePID.FindStringSubmatch(filepath.Base(real)); m != nil {
		pid, _ = strconv.Atoi(m[1])
	}
	r, err := history.OpenReader(dbPath, time.Local)
	if err != nil {
		return "", "", nil
	}
	defer r.Close()
	exe, reportPath, err := r.CoreExecutable(ctx, real, pid)
	if err != nil {
		return "", "", err
	}
	return exe, "the crash report " + reportPath, nil
}

// coreExecutableArg decides what lldb gets as --file: the executable only
// when it is a regular file that passes the ownership check
// (lldbarg.CoreExecutable: lldb loads it, and may run its dSYM's Python
// scripts; a crash report naming it is written by any local process).
// One the user named (--exe) and that is refused is an error; one from a
// crash report is left out with a note, and lldb reads the core alone.
func coreExecutableArg(exe, from string) (string, []string, error) {
	if exe == "" {
		return "", []string{"No crash report of this process is in the history: lldb reads the images from the core alone. Pass --exe PATH to name the executable."}, nil
	}
	clean := func(s string) string { return report.Clean(s, 1024) }
	abs, err := filepath.Abs(exe)
	fi, serr := os.Stat(abs)
	if err != nil || serr != nil || !fi.Mode().IsRegular() {
		if from == "--exe" {
			return "", nil, fmt.Errorf("--exe %s: not a regular file", exe)
		}
		return "", []string{fmt.Sprintf("The executable %s (from %s) is not on this Mac: lldb reads the images from the core alone. Pass --exe PATH to name it.", clean(exe), clean(from))}, nil
	}
	path, note := lldbarg.CoreExecutable(abs, from, os.Getuid())
	if note != "" {
		if from == "--exe" {
			return "", nil, fmt.Errorf("--exe %s: %s", exe, clean(note))
		}
		return "", []string{clean(note)}, nil
	}
	notes := []string{"Executable from " + clean(from) + "."}
	arg, note, err := plainPath("exe", path)
	if err != nil {
		return "", nil, err
	}
	if note != "" {
		notes = append(notes, note)
	}
	return arg, notes, nil
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

// ShellQuote quotes a word for a POSIX shell, for display: plain words
// as they are, anything else in single quotes.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
