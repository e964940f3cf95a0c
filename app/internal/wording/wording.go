// Package wording holds the small phrases every room of the forkwatch
// command shares: plural forms, a dash for a missing value, a process with
// its pid, sizes, the one-line headline `inspect` and `watch` print for a
// report, and why a path named on the command line is unusable. It sits
// below the rooms (the commands, the menu, the notifications) so that none
// of them has to import another for a word.
package wording

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// Plural picks one or many by n.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// OrDash is s, or "–" when s is empty.
func OrDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// OnOff is "on" or "off".
func OnOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// Truncate cleans s of control characters and cuts it to n runes, the last
// being "…" when it was longer.
func Truncate(s string, n int) string {
	s = report.Clean(s, 4096)
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// HumanBytes formats a size the way Finder does (decimal units).
func HumanBytes(n int64) string { return report.HumanBytes(n) }

// ProcWithPID is "name (pid N)", the name alone without a pid, or "" when
// neither is known.
func ProcWithPID(name string, pid int) string {
	switch {
	case name == "" && pid == 0:
		return ""
	case pid == 0:
		return name
	default:
		return fmt.Sprintf("%s (pid %d)", name, pid)
	}
}

// StatReason is why a path named on the command line is not usable, in
// words rather than Go's "stat X: no such file or directory".
func StatReason(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or folder"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}
