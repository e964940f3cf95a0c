//go:build unix

package interp

import (
	"os/exec"
	"syscall"
)

// SetProcessGroup starts the command in a process group of its own and
// makes a cancel (the time limit) kill the whole group, so that a child the
// interpreter forked cannot outlive it.
func SetProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// Negative pid: the group (kill(2)).
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return cmd.Process.Kill()
	}
}
