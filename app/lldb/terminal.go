package lldb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/internal/safefs"
	"github.com/forkwatch/forkwatch/internal/syscmd"
)

// Exec runs lldb with the plan's argv, in this terminal, and returns
// lldb's exit code; an error means lldb could not be run at all.
func Exec(ctx context.Context, plan Plan, stdout, stderr io.Writer) (int, error) {
	path, err := lookLLDB()
	if err != nil {
		return 1, err
	}
	cmd := exec.CommandContext(ctx, path, plan.Argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		return 1, err
	}
	return 0, nil
}

// lookLLDB finds lldb on PATH through the ownership check
// (syscmd.LookPath): an lldb in a PATH folder others can write is never
// run, and nothing further down PATH is tried in its place.
func lookLLDB() (string, error) {
	path, err := syscmd.LookPath("lldb")
	if errors.Is(err, syscmd.ErrCommandMissing) {
		return "", fmt.Errorf("lldb not found (it comes with Xcode's Command Line Tools: xcode-select --install): %w", err)
	}
	return path, err
}

// Dir opens the folder that holds the Terminal .command files, their plans
// and the plain-named links for names lldb cannot take: support/debug,
// made 0700 if missing. Both folders are opened without following links
// (internal/safefs: a folder of the user's, not a link, not writable by
// others); a debug folder that is a link is refused, never chmodded
// through (issue 28: root with the user's HOME chmodded a root folder that
// way). One an earlier version left readable by others is tightened on its
// own descriptor. The caller closes it.
func Dir() (*safefs.Dir, error) {
	support, err := safefs.MkdirAndOpen(appinfo.SupportDir(), 0o700, os.Geteuid())
	if err != nil {
		return nil, err
	}
	defer support.Close()
	d, err := support.Mkdir("debug", 0o700)
	if err != nil {
		return nil, err
	}
	if err := tighten(d); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// tighten makes the opened folder 0700 (fchmod on its own descriptor).
func tighten(d *safefs.Dir) error {
	f, err := d.Root().Open(".")
	if err != nil {
		return fmt.Errorf("open %s: %w", d.Path(), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm() != 0o700 {
		err = f.Chmod(0o700)
	}
	if err != nil {
		return fmt.Errorf("chmod %s: %w", d.Path(), err)
	}
	return nil
}

// writeNew writes a file of a fresh name in d: a temporary name created
// with O_EXCL (never a link: safefs opens O_NOFOLLOW), synced, then
// renamed inside the opened folder.
func writeNew(d *safefs.Dir, name string, data []byte, perm os.FileMode) error {
	tmp := "." + name + ".tmp"
	f, err := d.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.Root().Rename(tmp, name)
	}
	if err != nil {
		d.Root().Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Join(d.Path(), name), err)
	}
	return nil
}

// OpenInTerminal opens the plan in Terminal on macOS. Terminal runs a
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
func OpenInTerminal(ctx context.Context, goos, self string, plan Plan) (string, error) {
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
	d, err := Dir()
	if err != nil {
		return "", err
	}
	defer d.Close()
	cleanDebugDir(d, time.Now().Add(-24*time.Hour))
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	name := "lldb-" + hex.EncodeToString(rnd[:]) + ".command"
	cmdFile := filepath.Join(d.Path(), name)
	js, err := json.Marshal(plan)
	if err != nil {
		return "", err
	}
	if err := writeNew(d, name+".plan", js, 0o600); err != nil {
		return "", err
	}
	script := "#!/bin/sh\n# Written by Forkwatch: runs lldb with the arguments in the .plan file beside it.\nexec " + ShellQuote(self) + " debug --exec-plan \"$0.plan\"\n"
	if err := writeNew(d, name, []byte(script), 0o700); err != nil {
		return "", err
	}
	if _, err := syscmd.Run(ctx, 30*time.Second, "open", "-a", "Terminal", cmdFile); err != nil {
		return "", fmt.Errorf("open Terminal: %w", err)
	}
	return cmdFile, nil
}

// cleanDebugDir removes the .command files and plans of earlier
// sessions, from the opened folder.
func cleanDebugDir(d *safefs.Dir, before time.Time) {
	f, err := d.Root().Open(".")
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		if fi, err := d.Root().Lstat(n); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(before) && strings.HasPrefix(n, "lldb-") {
			d.Root().Remove(n)
		}
	}
}

// ExecPlanFile runs a plan a .command file named: only one of
// Forkwatch's own (in the private debug folder, opened without following
// links; a regular file of the user's, mode 0600), used once.
func ExecPlanFile(p string) error {
	d, err := Dir()
	if err != nil {
		return err
	}
	defer d.Close()
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	if filepath.Dir(abs) != d.Path() {
		return fmt.Errorf("%s: not a plan in %s", p, d.Path())
	}
	name := filepath.Base(abs)
	js, err := readPlan(d, name)
	if err != nil {
		return err
	}
	d.Root().Remove(name)
	var plan Plan
	if err := json.Unmarshal(js, &plan); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	if len(plan.Argv) < 2 || plan.Argv[0] != "lldb" {
		return fmt.Errorf("%s: not an lldb plan", p)
	}
	lldb, err := lookLLDB()
	if err != nil {
		return err
	}
	return execProcess(lldb, plan.Argv, os.Environ())
}

// readPlan reads a plan Forkwatch wrote: a regular file of the user's
// (safefs), mode 0600, at most 1 MiB.
func readPlan(d *safefs.Dir, name string) ([]byte, error) {
	f, err := d.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() > 1<<20 {
		return nil, fmt.Errorf("%s: not a plan Forkwatch wrote (mode %v)", filepath.Join(d.Path(), name), fi.Mode())
	}
	return io.ReadAll(f)
}
