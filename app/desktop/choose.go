package desktop

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/internal/syscmd"
)

// chooseScript shows a folder chooser through osascript's own `choose
// folder` (Standard Additions, run by osascript itself: no Apple Event is
// sent to another application, so the hardened runtime's
// automation.apple-events entitlement is not needed) and prints the POSIX
// path chosen. Cancel is error -128.
var chooseScript = []string{
	"-e", "on run argv",
	"-e", `POSIX path of (choose folder with prompt (item 1 of argv))`,
	"-e", "end run",
}

// ChooserFor returns the folder chooser of this system, or nil when there
// is none: osascript on macOS, zenity (where installed) elsewhere. The
// chooser returns ok false when the user cancelled.
func ChooserFor(goos string) func(ctx context.Context, prompt string) (dir string, ok bool, err error) {
	if goos == "darwin" {
		return chooseMac
	}
	if _, err := exec.LookPath("zenity"); err != nil {
		return nil
	}
	return chooseZenity
}

func chooseMac(ctx context.Context, prompt string) (string, bool, error) {
	args := append(append([]string{}, chooseScript...), prompt)
	out, err := syscmd.Run(ctx, 30*time.Minute, "osascript", args...)
	if err != nil {
		if strings.Contains(err.Error(), "-128") {
			return "", false, nil
		}
		return "", false, err
	}
	return cleanChosen(out)
}

func chooseZenity(ctx context.Context, prompt string) (string, bool, error) {
	out, err := syscmd.Run(ctx, 30*time.Minute, "zenity", "--file-selection", "--directory", "--title="+prompt)
	if err != nil {
		// zenity exits 1 on Cancel, with nothing on stdout.
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 && strings.TrimSpace(out) == "" {
			return "", false, nil
		}
		return "", false, err
	}
	return cleanChosen(out)
}

// cleanChosen takes the chooser's one line of output as an absolute path.
func cleanChosen(out string) (string, bool, error) {
	p := strings.TrimRight(out, "\r\n")
	if p == "" || strings.Contains(p, "\n") || !filepath.IsAbs(p) {
		return "", false, errors.New("the folder chooser gave no usable folder: " + strings.TrimSpace(out))
	}
	return filepath.Clean(p), true, nil
}
