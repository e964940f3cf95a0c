package report

import "fmt"

// CoreFile is a core dump in the core folder. Its contents are never read:
// it can be many GB and /cores is writable by every user.
type CoreFile struct {
	Path     string `json:"path"`
	PID      int    `json:"pid"`
	Size     int64  `json:"size"`
	Complete bool   `json:"complete"`
	Process  string `json:"process,omitempty"`
	// The dying process's parent, when it could be read as the file
	// appeared (see Report for the fields).
	ParentPID     int    `json:"parent_pid,omitempty"`
	ParentProcess string `json:"parent_process,omitempty"`
	ParentCommand string `json:"parent_command,omitempty"`
	ParentCwd     string `json:"parent_cwd,omitempty"`
	Group         string `json:"group,omitempty"`
}

// HumanBytes formats a size the way Finder does (decimal units), so that the menu, the
// notifications and the history page say the same as Finder.
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
