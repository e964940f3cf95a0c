package settings

import (
	"context"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/internal/syscmd"
	"path/filepath"
	"strings"
)

// The Objective-C runtime reads OBJC_DISABLE_INITIALIZE_FORK_SAFETY once,
// when a process starts (objc4, objc-env.h / environ_init), so it must be in
// the environment the process is started with: setting it inside Python is
// too late. `launchctl setenv` puts it into the user's launchd session,
// whose later children inherit it (launchctl(1), setenv), until logout; a
// LaunchAgent that runs the same command at load sets it at every login.

const (
	forkSafetyVar   = "OBJC_DISABLE_INITIALIZE_FORK_SAFETY"
	forkSafetyLabel = "com.forkwatch.fork-safety-env"
	launchctlPath   = "/bin/launchctl"
)

// ForkSafety is the fork-safety-off toggle.
type ForkSafety struct{ Env Env }

func (f *ForkSafety) Name() string { return ForkSafetyOff }
func (f *ForkSafety) Label() string {
	return "Set OBJC_DISABLE_INITIALIZE_FORK_SAFETY for apps started from now on"
}

func (f *ForkSafety) agentPath() string {
	return filepath.Join(f.Env.Home, "Library", "LaunchAgents", forkSafetyLabel+".plist")
}

func (f *ForkSafety) job() launchdJob {
	return launchdJob{
		Label:            forkSafetyLabel,
		ProgramArguments: []string{launchctlPath, "setenv", forkSafetyVar, "YES"},
		RunAtLoad:        true,
	}
}

const forkSafetyCaveat = "Reaches only processes started afterwards: restart Terminal, IDEs and servers. It silences a real hazard rather than fixing it; the fix is to not fork without exec."

func (f *ForkSafety) State(ctx context.Context) State {
	out, err := syscmd.Run(ctx, 0, "launchctl", "getenv", forkSafetyVar)
	if err != nil && !isExitStatus(err) {
		return State{Error: fmt.Sprintf("launchctl getenv: %v", err)}
	}
	now := strings.TrimSpace(out) == "YES"
	j, agent, aerr := readJob(f.agentPath())
	agentOK := agent && aerr == nil && strings.Join(j.ProgramArguments, " ") == strings.Join(f.job().ProgramArguments, " ")
	st := State{On: now && agentOK}
	switch {
	case now && agentOK:
		st.Detail = forkSafetyVar + "=YES for apps started from now on, and at every login. " + forkSafetyCaveat
	case now:
		st.Detail = forkSafetyVar + "=YES in this login session only (no LaunchAgent; lost at logout)"
	case agentOK:
		st.Detail = "LaunchAgent present but the variable is not set in this session (it will be at next login)"
	default:
		st.Detail = "not set: forked Python children that touch Objective-C are killed (the safe default)"
	}
	if agent && aerr != nil {
		st.Conflicts = append(st.Conflicts, aerr.Error())
	}
	return st
}

func (f *ForkSafety) Set(ctx context.Context, on bool) error {
	if on {
		if err := writeJob(f.Env, f.agentPath(), f.job()); err != nil {
			return fmt.Errorf("fork-safety-off on: %w", err)
		}
		if _, err := syscmd.Run(ctx, 0, "launchctl", "setenv", forkSafetyVar, "YES"); err != nil {
			return fmt.Errorf("fork-safety-off on: %w", err)
		}
		return nil
	}
	var errs []error
	if _, err := syscmd.Run(ctx, 0, "launchctl", "unsetenv", forkSafetyVar); err != nil {
		errs = append(errs, err)
	}
	if err := removeFile(f.agentPath()); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("fork-safety-off off: %w", errors.Join(errs...))
	}
	return nil
}

// isExitStatus reports whether err is a command that ran and exited
// non-zero (launchctl getenv of an unset variable), not a missing command.
func isExitStatus(err error) bool {
	return err != nil && !errors.Is(err, syscmd.ErrCommandMissing) && !errors.Is(err, syscmd.ErrTimeout)
}
