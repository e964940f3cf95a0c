// Package interp is the one way Forkwatch starts an interpreter it did not
// ship (a Python or a Ruby named by PATH, a crash report, a venv, a version
// manager): doctor's inventory and probe, the fork tracer's query, and the
// app's trace commands all come through Command.
//
// Three things stand between the interpreter and code someone else left
// for it:
//
//   - the ownership check (internal/trust.CheckExecutable) on the
//     interpreter file and every folder on the way to it, before anything
//     runs;
//   - a private, empty working folder made for the run (owned by the user,
//     mode 0700) and removed after it. `python -c` puts the current folder
//     first on sys.path ("python -c: prepend an empty string, which means
//     the current working directory", Python docs, sys.path), so a
//     json.py or multiprocessing.py left in a shared folder such as /tmp
//     would be imported when the user runs `forkwatch doctor` there; -E and
//     -s do not change that. A version manager's shim reads
//     .python-version / .ruby-version from the current folder too;
//   - isolated mode where the interpreter has it: Python 3.4 and later get
//     -I ("isolate Python from the user's environment: neither the script's
//     directory nor the user's site-packages directory is in sys.path; all
//     PYTHON* environment variables are ignored", docs.python.org/3/using/
//     cmdline.html#cmdoption-I, "New in version 3.4"); an older or unknown
//     version gets -E -s (both exist in Python 2.7) and relies on the
//     private folder for sys.path[0]. Ruby has no isolated mode; `ruby -e`
//     does not put the current folder on $LOAD_PATH (removed in 1.9.2), and
//     RUBYOPT and RUBYLIB, which would load code at start (ruby(1),
//     ENVIRONMENT), are removed from its environment, as PYTHONPATH and its
//     kin are from Python's.
package interp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/forkwatch/forkwatch/internal/trust"
)

// Lang is the interpreter's language: it decides the flags and the
// variables removed from the environment.
type Lang int

const (
	Python Lang = iota
	Ruby
	// Program is any other program Forkwatch runs from a path it did not
	// ship (a version manager: `pyenv root`): the ownership check and the
	// private folder, no flags, the environment as given.
	Program
)

func (l Lang) String() string {
	switch l {
	case Ruby:
		return "ruby"
	case Program:
		return "program"
	}
	return "python"
}

// Spec says what to run.
type Spec struct {
	Lang Lang
	// Path is the interpreter, as found (a venv's bin/python3, a shim).
	Path string
	// Version is the interpreter's version when known ("3.12.1"); it picks
	// Python's isolation flags. "" means unknown: -E -s.
	Version string
	// Args follow the isolation flags: "-c", script, its arguments.
	Args []string
	// Env is the environment before cleaning; nil means os.Environ().
	Env []string
	// UID is the user the ownership check is for (the user Forkwatch runs
	// as: os.Getuid()).
	UID int
	// TempParent is where the private folder is made; "" is os.TempDir().
	TempParent string
	// Name goes into the private folder's name (forkwatch-NAME-*); "" is
	// "run".
	Name string
}

// Cmd is a prepared run: an *exec.Cmd whose Dir is the private folder.
// Call Cleanup after Wait (or after a failed Start) to remove the folder.
type Cmd struct {
	*exec.Cmd
	// Private is the private working folder.
	Private string
}

// Cleanup removes the private folder and whatever the interpreter left in
// it.
func (c *Cmd) Cleanup() error {
	if c == nil || c.Private == "" {
		return nil
	}
	if err := os.RemoveAll(c.Private); err != nil {
		return fmt.Errorf("remove %s: %w", c.Private, err)
	}
	return nil
}

// Flags are the isolation flags for an interpreter of this language and
// version (put before the caller's arguments).
func Flags(lang Lang, version string) []string {
	if lang != Python {
		return nil
	}
	if major, minor, ok := majorMinor(version); ok && (major > 3 || major == 3 && minor >= 4) {
		return []string{"-I"}
	}
	return []string{"-E", "-s"}
}

// majorMinor reads "3.12.1" (or "3.4", "3.13.0rc1") as 3, 12.
func majorMinor(v string) (int, int, bool) {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return 0, 0, false
	}
	digits := parts[1]
	for i, r := range digits {
		if r < '0' || r > '9' {
			digits = digits[:i]
			break
		}
	}
	minor, err := strconv.Atoi(digits)
	if err != nil {
		return 0, 0, false
	}
	return major, minor, true
}

// CleanEnv is env without the variables that make the interpreter load
// code or another installation at start.
func CleanEnv(lang Lang, env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if dropVar(lang, k) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func dropVar(lang Lang, k string) bool {
	switch lang {
	case Python:
		// -I and -E ignore every PYTHON* variable; the interpreter's
		// children (a probe's forked child) would not.
		switch k {
		case "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "__PYVENV_LAUNCHER__",
			"PYTHONINSPECT", "PYTHONUSERBASE", "PYTHONSAFEPATH", "PYTHONPLATLIBDIR":
			return true
		}
	case Ruby:
		switch k {
		case "RUBYOPT", "RUBYLIB", "RUBYSHELL", "BUNDLE_GEMFILE", "RUBYLIB_PREFIX":
			return true
		}
	}
	return false
}

// ErrPrivateFolder means no private working folder could be made safely.
var ErrPrivateFolder = errors.New("no private working folder")

// Command checks the interpreter's ownership (internal/trust), makes the
// private working folder and returns the command, not started. A refused
// interpreter gives the *trust.Error (errors.Is(err, trust.ErrUntrusted)).
func Command(ctx context.Context, s Spec) (*Cmd, error) {
	if err := trust.CheckExecutable(s.Path, s.UID); err != nil {
		return nil, err
	}
	name := s.Name
	if name == "" {
		name = "run"
	}
	dir, err := privateDir(s.TempParent, "forkwatch-"+name+"-")
	if err != nil {
		return nil, err
	}
	env := s.Env
	if env == nil {
		env = os.Environ()
	}
	args := append(Flags(s.Lang, s.Version), s.Args...)
	cmd := exec.CommandContext(ctx, s.Path, args...)
	cmd.Dir = dir
	cmd.Env = append(CleanEnv(s.Lang, env), "PWD="+dir)
	return &Cmd{Cmd: cmd, Private: dir}, nil
}

// PrivateDir makes an empty folder only this user can enter, under parent
// ("" is os.TempDir()). The parent may be a shared sticky folder such as
// /tmp (nobody else can rename or remove our entry in it), but not one
// others can write without the sticky bit: there someone could move our
// folder aside and put theirs in its place.
func PrivateDir(parent string) (string, error) {
	return privateDir(parent, "forkwatch-run-")
}

func privateDir(parent, pattern string) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	pfi, err := os.Stat(parent)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPrivateFolder, err)
	}
	if m := pfi.Mode(); m&0o022 != 0 && m&fs.ModeSticky == 0 {
		return "", fmt.Errorf("%w: %s is writable by others and not sticky", ErrPrivateFolder, parent)
	}
	dir, err := os.MkdirTemp(parent, pattern+"*")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPrivateFolder, err)
	}
	// MkdirTemp asks for 0700; a umask can only remove bits. Check what we
	// got, on the folder itself (not a link).
	fi, err := os.Lstat(dir)
	if err == nil {
		st, ok := fi.Sys().(*syscall.Stat_t)
		switch {
		case !fi.IsDir():
			err = errors.New("not a folder")
		case !ok || int(st.Uid) != os.Geteuid():
			err = errors.New("not ours")
		case fi.Mode().Perm() != 0o700:
			err = os.Chmod(dir, 0o700)
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("%w: %s: %v", ErrPrivateFolder, dir, err)
	}
	return dir, nil
}

// ErrTimeout means the interpreter did not finish within the time limit.
var ErrTimeout = errors.New("timed out")

// DefaultTimeout is Run's time limit when the caller gives none.
const DefaultTimeout = 10 * time.Second

// Run runs the interpreter to the end with a time limit (DefaultTimeout
// when timeout <= 0), in a process group of its own that the limit kills
// whole, and returns both outputs (the first MiB of standard output, 64 KiB
// of standard error).
//
// A Python of unknown version is run with -I first; one older than 3.4
// refuses it at once (exit status 2, "Unknown option: -I" — Python 2.7 and
// 3.0–3.3 print that before running anything) and is run again with -E
// -s. So every Python that has isolated mode gets it without asking its
// version first.
func Run(ctx context.Context, timeout time.Duration, s Spec) (stdout, stderr string, err error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if s.Lang == Python && s.Version == "" {
		isolated := s
		isolated.Version = "3.4"
		stdout, stderr, err = run(ctx, isolated)
		if !refusedI(err, stderr) {
			return stdout, stderr, err
		}
	}
	return run(ctx, s)
}

// refusedI reports whether a Python refused -I as an unknown option.
func refusedI(err error, stderr string) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 2 && strings.HasPrefix(stderr, "Unknown option: -I")
}

func run(ctx context.Context, s Spec) (stdout, stderr string, err error) {
	cmd, err := Command(ctx, s)
	if err != nil {
		return "", "", err
	}
	defer cmd.Cleanup()
	SetProcessGroup(cmd.Cmd)
	cmd.WaitDelay = 500 * time.Millisecond
	var out, errOut LimitedBuffer
	out.Max, errOut.Max = 1<<20, 64<<10
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return out.String(), errOut.String(), fmt.Errorf("%s: %w", s.Path, ErrTimeout)
	}
	return out.String(), errOut.String(), err
}

// LimitedBuffer keeps the first Max bytes written to it, so a runaway
// interpreter cannot fill memory.
type LimitedBuffer struct {
	bytes.Buffer
	Max int
}

func (b *LimitedBuffer) Write(p []byte) (int, error) {
	if room := b.Max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
