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
	"time"
)

// The login item on macOS 13 and later is the app registered with
// SMAppService (appservice.go): listed under "Open at Login", read back
// with -status. Moving to it removes the LaunchAgent earlier versions wrote
// (else both would start Forkwatch at login). On macOS 12 it is a
// LaunchAgent (RunAtLoad; LimitLoadToSessionType Aqua so it loads only in a
// graphical session; launchd.plist(5)), loaded now with `launchctl
// bootstrap gui/UID` and unloaded with `bootout`. On Linux, the development
// platform, it is an XDG autostart entry (~/.config/autostart,
// freedesktop.org Desktop Application Autostart spec). A copy running from
// an App Translocation path is never registered (ErrTranslocated).

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
	if svc := l.Env.appService(); svc != nil {
		return l.serviceState(svc)
	}
	j, ok, err := readJob(l.agentPath())
	if err != nil {
		return State{Error: err.Error()}
	}
	if !ok {
		return State{Detail: "Forkwatch does not start at login"}
	}
	st := State{On: true, Detail: "starts at login from " + firstArg(j)}
	if translocated(firstArg(j)) {
		st.Conflicts = append(st.Conflicts, fmt.Sprintf("%s starts a temporary copy of Forkwatch (%s) that will not exist at next login: move Forkwatch to Applications, open it from there, and turn this on again", l.agentPath(), firstArg(j)))
	} else if firstArg(j) != l.Env.Exe && !translocated(l.Env.Exe) {
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
	if on && translocated(l.Env.Exe) {
		return fmt.Errorf("login-item on: %w (now at %s)", ErrTranslocated, l.Env.Exe)
	}
	if svc := l.Env.appService(); svc != nil {
		return l.serviceSet(ctx, svc, on)
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
	if err := l.removeAgent(ctx); err != nil {
		return fmt.Errorf("login-item off: %w", err)
	}
	return nil
}

// removeAgent unloads and removes the LaunchAgent. bootout stops the job's
// process: when that is us (launchd sets XPC_SERVICE_NAME for its jobs),
// removing the file is enough and the job is gone at next login.
func (l *Login) removeAgent(ctx context.Context) error {
	if os.Getenv("XPC_SERVICE_NAME") != loginLabel {
		if _, err := syscmd.Run(ctx, 0, "launchctl", "bootout", l.domain()+"/"+loginLabel); err != nil && !isExitStatus(err) {
			return err
		}
	}
	return removeFile(l.agentPath())
}

// hasAgent reports whether the LaunchAgent file is there.
func (l *Login) hasAgent() bool {
	_, err := os.Lstat(l.agentPath())
	return err == nil
}

// serviceState reads the login item back from SMAppService.
func (l *Login) serviceState(svc AppService) State {
	status, err := svc.Status()
	if err != nil {
		return State{Error: fmt.Sprintf("SMAppService status: %v", err)}
	}
	var st State
	switch status {
	case ServiceEnabled:
		st = State{On: true, Detail: "opens at login (System Settings → General → Login Items → Open at Login)"}
	case ServiceRequiresApproval:
		st = State{Detail: "registered, but not allowed to open at login: switch Forkwatch on in System Settings → General → Login Items"}
	case ServiceNotRegistered:
		st = State{Detail: "Forkwatch does not start at login"}
	case ServiceNotFound:
		return State{Error: "SMAppService cannot find Forkwatch's login item (status notFound): is Forkwatch a signed app in Applications?"}
	default:
		return State{Error: "SMAppService: " + status.String()}
	}
	if l.hasAgent() {
		what := "starts Forkwatch at login as well (removed when Forkwatch starts)"
		if !st.On {
			what = "still starts Forkwatch at login (turn this on, or off, to remove it)"
		}
		st.Conflicts = append(st.Conflicts, fmt.Sprintf("the LaunchAgent %s of an earlier version %s", l.agentPath(), what))
	}
	if translocated(l.Env.Exe) {
		st.Conflicts = append(st.Conflicts, ErrTranslocated.Error())
	}
	return st
}

// serviceSet registers or unregisters the main app, then removes the
// LaunchAgent of earlier versions either way (on: the service replaces
// it; off: it would still start Forkwatch).
func (l *Login) serviceSet(ctx context.Context, svc AppService, on bool) error {
	if on {
		if err := svc.Register(); err != nil && !isSMCode(err, smErrorAlreadyRegistered) {
			return fmt.Errorf("login-item on: SMAppService register: %w", err)
		}
	} else {
		// "If the service is already unregistered, this method returns
		// kSMErrorJobNotFound" (Apple, SMAppService unregister()).
		if err := svc.Unregister(); err != nil && !isSMCode(err, smErrorJobNotFound) {
			return fmt.Errorf("login-item off: SMAppService unregister: %w", err)
		}
	}
	if l.hasAgent() {
		if err := l.removeAgent(ctx); err != nil {
			return fmt.Errorf("login-item %s: remove the old LaunchAgent: %w", onOff(on), err)
		}
	}
	return nil
}

// FixLoginItem keeps the login item starting the app from where it is now:
// on macOS 13+ it moves a LaunchAgent of an earlier version to SMAppService
// (registers the app, removes the agent); on macOS 12 it rewrites the
// LaunchAgent when the app was moved. It does nothing when there is no
// login item, and never points one at a translocated copy. It reports
// whether it changed anything.
func FixLoginItem(env Env) (bool, error) {
	l := &Login{Env: env}
	if env.GOOS == "darwin" && translocated(env.Exe) {
		return false, nil
	}
	if svc := env.appService(); env.GOOS == "darwin" && svc != nil {
		if !l.hasAgent() {
			return false, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.serviceSet(ctx, svc, true); err != nil {
			return false, fmt.Errorf("move the login item to SMAppService: %w", err)
		}
		return true, nil
	}
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
		if err := removeFile(l.autostartPath()); err != nil {
			return err
		}
		// The autostart folder goes too, but only when Forkwatch created it
		// (created-folders) and it is empty now (issue 32: an empty
		// ~/.config/autostart of ours was left behind).
		return l.Env.removeCreatedDir(filepath.Dir(l.autostartPath()))
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
