// Package trust decides whether Forkwatch may run a program or write into a
// folder that something else named: a crash report, a spool record, the
// PATH, a venv seen in a report. Crash reports are written by any local
// process and /Library/Logs/DiagnosticReports holds every user's, so an
// interpreter path taken from one may be a file another user controls.
//
// The rule is the one OpenSSH applies to authorized_keys and its parents
// (safe_path in misc.c): the file and every folder consulted on the way to
// it — each folder holding a symbolic link included, before and after the
// link is followed — must be owned by the user or by root and must not be
// writable by group or others. A sticky world-writable folder such as /tmp
// is refused too: its sticky bit keeps others from renaming our entries,
// but anyone can plant a new one, and a path that passes through it was
// chosen by whoever wrote the name.
//
// When the check passes, nobody but the user and root can change what the
// path leads to, so checking first and running afterwards leaves no window
// for someone else to swap the file.
package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrUntrusted is what every *Error matches with errors.Is.
var ErrUntrusted = errors.New("not trusted")

// Error says why a path is refused: which file or folder, and what is
// wrong with it. Its message reads "not run: owned by uid 65534 (/tmp/evil)".
type Error struct {
	// Action is what was not done ("not run", "not written").
	Action string
	// Path is the file or folder at fault (not necessarily the one asked about).
	Path string
	// Reason is "owned by uid N", "writable by others", "writable by group",
	// or a failure to look ("cannot read: permission denied").
	Reason string
	// Asked is the path the caller asked about.
	Asked string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%s)", e.Action, e.Reason, e.Path)
}

// Is makes errors.Is(err, ErrUntrusted) true.
func (e *Error) Is(target error) bool { return target == ErrUntrusted }

// maxLinks bounds the symbolic links followed, like the kernel's ELOOP.
const maxLinks = 40

// CheckExecutable returns nil when path is a regular file that uid may run
// without anyone else having chosen it: the file and every folder on the
// way to it owned by uid or root and not writable by group or others.
// Otherwise it returns an *Error ("not run: writable by others (/tmp)").
// Every caller that executes an interpreter Forkwatch did not ship goes
// through it: doctor's inventory and probe, the fork tracer's Status and
// Enable, and through them the app's menu and start-up.
func CheckExecutable(path string, uid int) error {
	return check(path, uid, false, "not run")
}

// CheckFolder is the same rule for a folder Forkwatch is about to write
// into (a site-packages folder for the fork tracer).
func CheckFolder(path string, uid int) error {
	return check(path, uid, true, "not written")
}

// check walks path one name at a time from "/", following symbolic links
// itself, so that every folder whose entries decide where the path leads is
// checked, and finally the file or folder itself.
func check(path string, uid int, wantDir bool, action string) error {
	fail := func(at, reason string) error {
		return &Error{Action: action, Path: at, Reason: reason, Asked: path}
	}
	if path == "" {
		return fail(path, "empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail(path, err.Error())
	}
	rest := splitPath(abs)
	cur := "/"
	if err := checkNode(cur, uid, true); err != nil {
		return fail(cur, err.Error())
	}
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		next := filepath.Join(cur, name)
		if name == ".." {
			cur = filepath.Dir(cur)
			continue
		}
		fi, err := os.Lstat(next)
		if err != nil {
			return fail(next, "cannot read: "+errText(err))
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			links++
			if links > maxLinks {
				return fail(next, "too many symbolic links")
			}
			target, err := os.Readlink(next)
			if err != nil {
				return fail(next, "cannot read link: "+errText(err))
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(splitPath(target), rest...)
			continue
		}
		last := len(rest) == 0
		if !last && !fi.IsDir() {
			return fail(next, "not a folder")
		}
		if err := ownerAndMode(next, fi, uid); err != nil {
			return fail(next, err.Error())
		}
		if last {
			switch {
			case wantDir && !fi.IsDir():
				return fail(next, "not a folder")
			case !wantDir && !fi.Mode().IsRegular():
				return fail(next, "not a regular file")
			}
		}
		cur = next
	}
	if cur == "/" && !wantDir {
		return fail(cur, "not a regular file")
	}
	return nil
}

func checkNode(p string, uid int, wantDir bool) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("cannot read: %s", errText(err))
	}
	if wantDir && !fi.IsDir() {
		return errors.New("not a folder")
	}
	return ownerAndMode(p, fi, uid)
}

// ownerAndMode is the rule for one file or folder: its owner, its mode,
// and on macOS its ACL, which can grant others write whatever the mode
// says (acl.go).
func ownerAndMode(p string, fi fs.FileInfo, uid int) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("owner unknown")
	}
	if int(st.Uid) != uid && st.Uid != 0 {
		return fmt.Errorf("owned by uid %d", st.Uid)
	}
	switch m := fi.Mode().Perm(); {
	case m&0o002 != 0:
		return errors.New("writable by others")
	case m&0o020 != 0:
		return errors.New("writable by group")
	}
	text, err := extendedACL(p)
	if err != nil {
		return fmt.Errorf("cannot read its ACL: %v", err)
	}
	if text == "" {
		return nil
	}
	why, err := aclGrantsWrite(text, uid)
	if err != nil {
		return err
	}
	if why != "" {
		return errors.New(why)
	}
	return nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
