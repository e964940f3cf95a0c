// Package syscmd runs the system commands Forkwatch depends on (sysctl,
// launchctl, osascript, open, codesign) with a time limit and arguments as a
// list, never through a shell. It sits below both monitor and settings so
// that the watcher does not depend on the toggles.
package syscmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
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
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, ErrCommandMissing)
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
