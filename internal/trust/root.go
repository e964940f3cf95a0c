package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrRootWithUserHome is what RefuseRootWithUserHome's error matches.
var ErrRootWithUserHome = errors.New("run as the user, not with sudo")

// RefuseRootWithUserHome returns an error when euid is root and any of dirs
// (the home folder, the support folder, the log folder) or any folder
// above it belongs to someone else: Forkwatch was started with sudo
// keeping the user's HOME (`sudo -E`, or a sudoers that keeps HOME), and
// would otherwise follow the user's links as root — truncating a root file
// through a linked forkwatch.pid, appending to one through a linked
// ~/.profile. A folder that does not exist yet is judged by the nearest one
// above it that does. Commands that touch a home folder call it first
// (watch, set, uninstall, debug, trace, doctor); coredump-off's
// administrator script is what is meant to run as root, and runs through
// osascript's prompt, not through sudo.
//
// The error reads: "run as the user, not with sudo: /Users/ana belongs to
// uid 501 (the effective user is root)".
func RefuseRootWithUserHome(euid int, dirs ...string) error {
	if euid != 0 {
		return nil
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrRootWithUserHome, d, err)
		}
		for p := abs; ; p = filepath.Dir(p) {
			fi, err := os.Lstat(p)
			if err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
					return fmt.Errorf("%w: %s belongs to uid %d (the effective user is root)", ErrRootWithUserHome, p, st.Uid)
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: %s: %v", ErrRootWithUserHome, p, err)
			}
			if p == filepath.Dir(p) {
				break
			}
		}
	}
	return nil
}
