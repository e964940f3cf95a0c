package settings

import (
	"context"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/internal/syscmd"
	"os"
	"strings"
)

// kern.coredump=0 stops the kernel writing core files for every process,
// whatever their rlimit. Setting it needs root, so Forkwatch asks once for
// the administrator password through osascript's `do shell script ... with
// administrator privileges` (Apple, Technical Note TN2065). The script is a
// constant with absolute paths; nothing from the user, a report or a file
// name is ever part of it. It is passed to AppleScript as an argument
// (`on run argv`), so there is no AppleScript quoting to get wrong.
// `do shell script` is a Standard Additions command osascript runs itself:
// it sends no Apple Event to another application, so it needs no
// Automation consent and no apple-events entitlement under the hardened
// runtime (unlike `tell application "Finder"`; docs/macos.md).
//
// To keep the setting after a restart, the script installs a LaunchDaemon
// that runs `/usr/sbin/sysctl -w kern.coredump=0` at boot (RunAtLoad,
// launchd.plist(5)). We use a LaunchDaemon rather than /etc/sysctl.conf
// because whether current macOS still reads /etc/sysctl.conf at boot is not
// documented by Apple; a daemon is launchd's documented contract.

const (
	coredumpDaemonLabel = "com.forkwatch.coredump-off"
	launchDaemonsDir    = "/Library/LaunchDaemons"
	coredumpDaemonPath  = launchDaemonsDir + "/" + coredumpDaemonLabel + ".plist"
	sysctlPath          = "/usr/sbin/sysctl"
)

// ErrCancelled means the user cancelled the password prompt.
var ErrCancelled = errors.New("cancelled in the password prompt; nothing was changed")

// adminApplet runs its first argument as a shell script with administrator
// privileges.
var adminApplet = []string{
	"-e", "on run argv",
	"-e", "do shell script (item 1 of argv) with administrator privileges",
	"-e", "end run",
}

// coredumpOnScript and coredumpOffScript are the only commands Forkwatch
// runs as root. They are built once from constants (the daemon plist comes
// from the plist encoder, with constant content).
var coredumpOnScript, coredumpOffScript = buildCoredumpScripts()

func buildCoredumpScripts() (on, off string) {
	daemon, err := encodeJob(launchdJob{
		Label:            coredumpDaemonLabel,
		ProgramArguments: []string{sysctlPath, "-w", "kern.coredump=0"},
		RunAtLoad:        true,
	})
	if err != nil || strings.Contains(string(daemon), "FORKWATCH_PLIST") {
		panic(fmt.Sprintf("coredump daemon plist: %v", err))
	}
	on = "set -e\n" +
		sysctlPath + " -w kern.coredump=0\n" +
		"/bin/mkdir -p " + launchDaemonsDir + "\n" +
		"/bin/cat > " + coredumpDaemonPath + " <<'FORKWATCH_PLIST'\n" + string(daemon) + "FORKWATCH_PLIST\n" +
		"/usr/sbin/chown root:wheel " + coredumpDaemonPath + "\n" +
		"/bin/chmod 644 " + coredumpDaemonPath + "\n"
	off = "set -e\n" +
		sysctlPath + " -w kern.coredump=1\n" +
		"/bin/rm -f " + coredumpDaemonPath + "\n"
	return on, off
}

// Coredump is the coredump-off toggle.
type Coredump struct {
	Env Env
	// DaemonPath is where the boot-time LaunchDaemon is looked for; tests
	// point it into a temporary folder (the root script itself always
	// writes the constant /Library/LaunchDaemons path).
	DaemonPath string
}

func (c *Coredump) Name() string { return CoredumpOff }
func (c *Coredump) Label() string {
	return "Disable core dumps system-wide (kern.coredump=0)…"
}

func (c *Coredump) daemonPath() string {
	if c.DaemonPath != "" {
		return c.DaemonPath
	}
	if p := os.Getenv("FORKWATCH_LAUNCHDAEMONS_DIR"); p != "" {
		return p + "/" + coredumpDaemonLabel + ".plist"
	}
	return coredumpDaemonPath
}

func (c *Coredump) State(ctx context.Context) State {
	out, err := syscmd.Run(ctx, 0, "sysctl", "-n", "kern.coredump")
	if err != nil {
		return State{Error: fmt.Sprintf("read kern.coredump: %v", err), Detail: "kern.coredump is not available on this system"}
	}
	v := strings.TrimSpace(out)
	st := State{On: v == "0"}
	_, daemon, derr := readJob(c.daemonPath())
	if st.On {
		st.Detail = "kern.coredump=0: the kernel writes no core files"
		if daemon && derr == nil {
			st.Detail += "; kept at boot by " + c.daemonPath()
		} else {
			st.Detail += "; not kept after a restart (no LaunchDaemon)"
		}
	} else {
		st.Detail = "kern.coredump=" + v + ": processes whose core limit allows it write core files"
		if pat, err := syscmd.Run(ctx, 0, "sysctl", "-n", "kern.corefile"); err == nil {
			st.Detail += " to " + strings.TrimSpace(pat)
		}
		if daemon {
			st.Conflicts = append(st.Conflicts, c.daemonPath()+" exists but kern.coredump is "+v)
		}
	}
	return st
}

// Set asks for the administrator password once and runs the constant
// script. A cancelled prompt changes nothing and says so.
func (c *Coredump) Set(ctx context.Context, on bool) error {
	script := coredumpOffScript
	if on {
		script = coredumpOnScript
	}
	args := append(append([]string{}, adminApplet...), script)
	timeout := c.Env.PromptTimeout
	_, err := syscmd.Run(ctx, timeout, "osascript", args...)
	if err != nil {
		if strings.Contains(err.Error(), "-128") || strings.Contains(err.Error(), "User canceled") {
			return fmt.Errorf("coredump-off %s: %w", onOff(on), ErrCancelled)
		}
		return fmt.Errorf("coredump-off %s: %w", onOff(on), err)
	}
	return nil
}

// CoredumpScripts exposes the two root scripts for tests and docs.
func CoredumpScripts() (on, off string) { return coredumpOnScript, coredumpOffScript }
