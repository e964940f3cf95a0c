package settings

import (
	"context"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/internal/syscmd"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The login item is a LaunchAgent on macOS (RunAtLoad; LimitLoadToSessionType
// Aqua so it loads only in a graphical session; launchd.plist(5)), loaded now
// with `launchctl bootstrap gui/UID` and unloaded with `bootout`. On Linux,
// the development platform, it is an XDG autostart entry
// (~/.config/autostart, freedesktop.org Desktop Application Autostart spec).

const loginLabel = "com.forkwatch.app"

// Login is the login-item toggle.
type Login struct{ Env Env }

func (l *Login) Name() string  { return LoginItem }
func (l *Login) Label() string { return "Start Forkwatch at login" }

func (l *Login) agentPath() string {
	return filepath.Join(l.Env.Home, "Library", "LaunchAgents", loginLabel+".plist")
}

func (l *Login) autostartPath() string {
	return filepath.Join(l.Env.Home, ".config", "autostart", "forkwatch.desktop")
}

func (l *Login) job() launchdJob {
	return launchdJob{
		Label:                  loginLabel,
		ProgramArguments:       []string{l.Env.Exe},
		RunAtLoad:              true,
		LimitLoadToSessionType: "Aqua",
		ProcessType:            "Interactive",
	}
}

func (l *Login) domain() string { return "gui/" + strconv.Itoa(l.Env.UID) }

func (l *Login) State(ctx context.Context) State {
	if l.Env.GOOS != "darwin" {
		return l.xdgState()
	}
	j, ok, err := readJob(l.agentPath())
	if err != nil {
		return State{Error: err.Error()}
	}
	if !ok {
		return State{Detail: "Forkwatch does not start at login"}
	}
	st := State{On: true, Detail: "starts at login from " + firstArg(j)}
	if firstArg(j) != l.Env.Exe {
		st.Conflicts = append(st.Conflicts, fmt.Sprintf("%s starts %s, but Forkwatch is now at %s (fixed when Forkwatch starts)", l.agentPath(), firstArg(j), l.Env.Exe))
	}
	if _, err := syscmd.Run(ctx, 0, "launchctl", "print", l.domain()+"/"+loginLabel); err == nil {
		st.Detail += "; loaded"
	} else {
		st.Detail += "; loads at next login"
	}
	return st
}

func firstArg(j launchdJob) string {
	if len(j.ProgramArguments) == 0 {
		return ""
	}
	return j.ProgramArguments[0]
}

func (l *Login) Set(ctx context.Context, on bool) error {
	if l.Env.GOOS != "darwin" {
		return l.xdgSet(on)
	}
	if on {
		if err := writeJob(l.Env, l.agentPath(), l.job()); err != nil {
			return fmt.Errorf("login-item on: %w", err)
		}
		if _, err := syscmd.Run(ctx, 0, "launchctl", "print", l.domain()+"/"+loginLabel); err == nil {
			return nil // already loaded
		}
		// Loading it starts a second Forkwatch, which sees the first one's
		// lock and exits at once; the job is then loaded for good.
		if _, err := syscmd.Run(ctx, 0, "launchctl", "bootstrap", l.domain(), l.agentPath()); err != nil {
			return fmt.Errorf("login-item on: %w", err)
		}
		return nil
	}
	// bootout stops the job's process: when that is us (launchd sets
	// XPC_SERVICE_NAME for its jobs), removing the file is enough and the
	// job is gone at next login.
	if os.Getenv("XPC_SERVICE_NAME") != loginLabel {
		if _, err := syscmd.Run(ctx, 0, "launchctl", "bootout", l.domain()+"/"+loginLabel); err != nil && !isExitStatus(err) {
			return fmt.Errorf("login-item off: %w", err)
		}
	}
	if err := removeFile(l.agentPath()); err != nil {
		return fmt.Errorf("login-item off: %w", err)
	}
	return nil
}

// FixLoginItem rewrites the LaunchAgent when the app was moved, so the
// login item keeps starting the app from where it is now. It does nothing
// when there is no login item.
func FixLoginItem(env Env) (bool, error) {
	l := &Login{Env: env}
	if env.GOOS != "darwin" {
		data, err := os.ReadFile(l.autostartPath())
		if err != nil || strings.Contains(string(data), "Exec="+desktopExec(env.Exe)+"\n") {
			return false, nil
		}
		return true, l.xdgSet(true)
	}
	j, ok, err := readJob(l.agentPath())
	if err != nil || !ok || firstArg(j) == env.Exe {
		return false, err
	}
	return true, writeJob(l.Env, l.agentPath(), l.job())
}

func (l *Login) xdgState() State {
	data, err := readDotfile(l.autostartPath())
	if errors.Is(err, fs.ErrNotExist) {
		return State{Detail: "Forkwatch does not start at login"}
	}
	if err != nil {
		return State{Error: err.Error()}
	}
	st := State{On: true, Detail: "starts at login (" + l.autostartPath() + ")"}
	if !strings.Contains(string(data), "Exec="+desktopExec(l.Env.Exe)+"\n") {
		st.Conflicts = append(st.Conflicts, l.autostartPath()+" starts another executable than "+l.Env.Exe)
	}
	return st
}

func (l *Login) xdgSet(on bool) error {
	if !on {
		return removeFile(l.autostartPath())
	}
	entry := "[Desktop Entry]\nType=Application\nName=Forkwatch\nComment=Watches for Python processes killed after fork()\n" +
		"Exec=" + desktopExec(l.Env.Exe) + "\nIcon=forkwatch\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
	return l.Env.editFile(l.autostartPath(), 0o644, func([]byte, bool) ([]byte, bool, error) { return []byte(entry), false, nil })
}

// desktopExec quotes a path for a desktop entry's Exec key (Desktop Entry
// Specification, "The Exec key": reserved characters are quoted, and ",
// `, $ and \ escaped inside the quotes; a literal % is written %%).
func desktopExec(path string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range path {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteString(`\\`)
			b.WriteRune(r)
		case '%':
			b.WriteString("%%")
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
