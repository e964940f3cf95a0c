package settings

import (
	"context"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Toggle names, as used by `forkwatch set NAME on|off` and the JSON status.
const (
	UlimitCore    = "ulimit-core"
	CoredumpOff   = "coredump-off"
	ForkSafetyOff = "fork-safety-off"
	LoginItem     = "login-item"
)

// Names lists the toggles in menu order.
var Names = []string{UlimitCore, CoredumpOff, ForkSafetyOff, LoginItem}

// State is a toggle's state as read back from the system.
type State struct {
	On     bool   `json:"on"`
	Detail string `json:"detail"`
	// Conflicts are settings elsewhere that defeat or undo this one, with
	// file and line where there is one.
	Conflicts []string `json:"conflicts,omitempty"`
	// Error is set when the state could not be read.
	Error string `json:"error,omitempty"`
}

// Toggle is one reversible mitigation.
type Toggle interface {
	Name() string
	// Label is the menu text.
	Label() string
	// State reads the real state from the system.
	State(ctx context.Context) State
	// Set turns the toggle on or off. It returns when done; the caller reads
	// the state back to know what happened.
	Set(ctx context.Context, on bool) error
}

// Env is where the toggles act: the home folder and the facts of this
// system. Tests point everything at temporary folders and fake commands.
type Env struct {
	Home string
	// ZDOTDIR is zsh's start-up folder when set (zsh(1), STARTUP/SHUTDOWN FILES).
	ZDOTDIR string
	// Shell is the user's login shell ($SHELL).
	Shell string
	// Exe is the executable a login item starts (the app's real path).
	Exe string
	UID int
	// GOOS picks the login-item mechanism: a LaunchAgent on darwin, XDG
	// autostart elsewhere.
	GOOS string
	// PromptTimeout bounds the password prompt.
	PromptTimeout time.Duration
	// SupportDir is Forkwatch's own folder; it records the folders
	// Forkwatch created, so that uninstall removes them and only them.
	SupportDir string
	// LoginService is the login item of macOS 13+ (SMAppService's main
	// app); nil takes the system's (none on macOS 12 and off macOS, where
	// the LaunchAgent or XDG autostart entry is used). Tests set a fake.
	LoginService AppService
	// writerUID, when set, replaces os.Getuid as the user edits are made
	// for (tests run as root, which may replace anyone's file).
	writerUID func() int
}

func (env Env) writer() atomicfile.Writer {
	if env.writerUID != nil {
		return atomicfile.Writer{UID: env.writerUID()}
	}
	return atomicfile.Writer{UID: os.Getuid()}
}

// DefaultEnv reads the environment of this process.
func DefaultEnv() Env {
	exe, _ := os.Executable()
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	home := os.Getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return Env{
		Home:          home,
		ZDOTDIR:       os.Getenv("ZDOTDIR"),
		Shell:         os.Getenv("SHELL"),
		Exe:           exe,
		UID:           os.Getuid(),
		GOOS:          platform(),
		PromptTimeout: 5 * time.Minute,
		SupportDir:    defaultSupportDir(home, runtime.GOOS),
	}
}

// platform is the system the toggles act for: runtime.GOOS, or
// FORKWATCH_PLATFORM=darwin, with which the tests and build/walkthrough.sh
// drive the macOS toggles on Linux against fake sysctl, launchctl and
// osascript first on PATH (like FORKWATCH_LAUNCHDAEMONS_DIR).
func platform() string {
	if p := os.Getenv("FORKWATCH_PLATFORM"); p != "" {
		return p
	}
	return runtime.GOOS
}

// defaultSupportDir mirrors the app's: ~/Library/Application Support/Forkwatch
// on macOS, $XDG_CONFIG_HOME/forkwatch elsewhere.
func defaultSupportDir(home, goos string) string {
	if goos == "darwin" {
		return filepath.Join(home, "Library", "Application Support", "Forkwatch")
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "forkwatch")
	}
	return filepath.Join(home, ".config", "forkwatch")
}

// All returns every toggle for env, in menu order.
func All(env Env) []Toggle {
	return []Toggle{
		&Ulimit{Env: env},
		&Coredump{Env: env},
		&ForkSafety{Env: env},
		&Login{Env: env},
	}
}

// Find returns the toggle called name.
func Find(env Env, name string) (Toggle, error) {
	for _, t := range All(env) {
		if t.Name() == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unknown setting %q (known: %s)", name, strings.Join(Names, ", "))
}

// SetAndVerify turns t on or off, then reads the state back. The error is
// non-nil when setting failed or the system does not now match.
func SetAndVerify(ctx context.Context, t Toggle, on bool) (State, error) {
	err := t.Set(ctx, on)
	st := t.State(ctx)
	if err != nil {
		return st, err
	}
	if st.Error != "" {
		return st, fmt.Errorf("%s: reading the new state: %s", t.Name(), st.Error)
	}
	if st.On != on {
		return st, fmt.Errorf("%s: the system does not show it %s: %s", t.Name(), onOff(on), st.Detail)
	}
	return st, nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// editFile applies edit to the file at path (following a symlinked dotfile
// to its target), writing atomically and only if the file did not change
// meanwhile. edit gets nil content and existed=false for a missing file; it
// returns the new content, or remove=true to delete a file we created.
func (env Env) editFile(path string, perm fs.FileMode, edit func(old []byte, existed bool) (out []byte, remove bool, err error)) error {
	w := env.writer()
	target, err := w.Resolve(path) // refuses a link owned by someone else
	if err != nil {
		return err
	}
	old, err := os.ReadFile(target)
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", target, err)
	}
	out, remove, err := edit(old, existed)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	if remove {
		fi, err := os.Lstat(target)
		if err != nil {
			return fmt.Errorf("%s: %w", target, atomicfile.ErrChanged)
		}
		if err := w.CheckOwner(target, fi); err != nil {
			return err
		}
		cur, err := os.ReadFile(target)
		if err != nil || string(cur) != string(old) {
			return fmt.Errorf("%s: %w", target, atomicfile.ErrChanged)
		}
		if err := os.Remove(target); err != nil {
			return fmt.Errorf("remove %s: %w", target, err)
		}
		return nil
	}
	if existed && string(out) == string(old) {
		return nil
	}
	if !existed && out == nil {
		return nil // nothing to create
	}
	if !existed {
		if err := env.mkdirAll(filepath.Dir(target)); err != nil {
			return err
		}
		old = nil
	}
	return w.ReplaceIfUnchanged(target, old, out, perm)
}
