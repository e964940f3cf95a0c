// Package syscmd runs the system commands Forkwatch depends on (sysctl,
// launchctl, osascript, open, codesign, lldb) with a time limit and
// arguments as a list, never through a shell. It sits below both monitor
// and settings so that the watcher does not depend on the toggles.
//
// A command is found on PATH (tests put fakes first), and the one found
// runs only if internal/trust accepts it: the file and every folder on the
// way to it owned by the user or root and writable by nobody else. A
// planted osascript in a folder others can write, early on PATH, could
// otherwise show a fake administrator-password dialog; it is refused with
// an error naming the folder, and nothing further down PATH is tried in its
// place (the user sees why, rather than a different program running).
package syscmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/internal/trust"
)

// ErrCommandMissing means a system command was not found on PATH.
var ErrCommandMissing = errors.New("command not found")

// ErrTimeout means a system command did not finish in time (a hung
// launchctl, an unanswered password prompt).
var ErrTimeout = errors.New("command timed out")

// DefaultTimeout bounds every system command but the password prompt.
const DefaultTimeout = 10 * time.Second

// Run runs a system command found on PATH (launchd gives GUI apps
// /usr/bin:/bin:/usr/sbin:/sbin, where sysctl, launchctl and osascript live;
// tests put fakes first on PATH) with arguments passed as a list, never
// through a shell, and returns its standard output. A non-zero exit gives an
// error carrying the command's standard error.
func Run(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	path, err := LookPath(name)
	if err != nil {
		return "", err
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return stdout.String(), fmt.Errorf("%s %s: %w after %v", name, strings.Join(args, " "), ErrTimeout, timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		if msg != "" {
			return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
		}
		return stdout.String(), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// LookPath finds name on PATH as exec.LookPath does and returns it only if
// trust.CheckExecutable accepts it for this user. A name with a slash is
// checked as given. A missing command gives ErrCommandMissing; a refused one
// a *trust.Error (errors.Is(err, trust.ErrUntrusted)) naming the folder:
// "osascript: not run: writable by others (/tmp/bin)".
func LookPath(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, ErrCommandMissing)
	}
	if err := trust.CheckExecutable(path, os.Getuid()); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return path, nil
}
