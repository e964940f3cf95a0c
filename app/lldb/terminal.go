package lldb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
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
	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/internal/syscmd"
)

// Exec runs lldb with the plan's argv, in this terminal, and returns
// lldb's exit code; an error means lldb could not be run at all.
func Exec(ctx context.Context, plan Plan, stdout, stderr io.Writer) (int, error) {
	path, err := exec.LookPath(plan.Argv[0])
	if err != nil {
		return 1, fmt.Errorf("lldb not found (it comes with Xcode's Command Line Tools: xcode-select --install): %w", err)
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

// Dir holds the Terminal .command files, their plans and the links
// for report names lldb cannot take: only the user can enter it.
func Dir() (string, error) {
	d := filepath.Join(appinfo.SupportDir(), "debug")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", d, err)
	}
	if err := os.Chmod(d, 0o700); err != nil {
		return "", fmt.Errorf("chmod %s: %w", d, err)
	}
	return d, nil
}

// plainAlias is a symlink with a plain name in Dir to the report.
func plainAlias(real string) (string, error) {
	d, err := Dir()
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
	script := "#!/bin/sh\n# Written by Forkwatch: runs lldb with the arguments in the .plan file beside it.\nexec " + ShellQuote(self) + " debug --exec-plan \"$0.plan\"\n"
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

// ExecPlanFile runs a plan a .command file named: only one of
// Forkwatch's own (in the private debug folder, the user's, 0600), used
// once.
func ExecPlanFile(p string) error {
	d, err := Dir()
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
	var plan Plan
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
