package settings

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/forkwatch/forkwatch/internal/safefs"
)

// createdFile lists, one per line, the folders Forkwatch created to hold a
// file of its own (~/Library/LaunchAgents on a fresh account, say).
func (env Env) createdFile() string {
	if env.SupportDir == "" {
		return ""
	}
	return filepath.Join(env.SupportDir, "created-folders")
}

// mkdirAll creates dir and the missing folders above it, recording each one
// it created so that uninstall can remove exactly those. The record is
// appended through internal/safefs: the support folder must be the user's
// and not a link, and created-folders is never a link.
func (env Env) mkdirAll(dir string) error {
	missing := missingDirs(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if len(missing) == 0 || env.createdFile() == "" {
		return nil
	}
	missing = append(missing, missingDirs(env.SupportDir)...)
	d, err := safefs.MkdirAndOpen(env.SupportDir, 0o700, env.writer().UID)
	if err != nil {
		return fmt.Errorf("record created folders: %w", err)
	}
	defer d.Close()
	f, err := d.OpenFile(filepath.Base(env.createdFile()), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("record created folders: %w", err)
	}
	defer f.Close()
	for _, d := range missing {
		fmt.Fprintln(f, d)
	}
	return nil
}

// missingDirs lists dir and its ancestors that do not exist yet.
func missingDirs(dir string) []string {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	return missing
}

// Uninstall turns every toggle off (coredump-off only when it is on or its
// LaunchDaemon is there, as it asks for a password) and removes the folders
// Forkwatch created, if they are empty, after removing ownDirs (the app's
// state and log folders) whole. It writes what it did to w.
//
// It removes only what it created and what is still what it created: a
// path under the home folder (opened once, as an os.Root, so no link leads
// out of it) that is still a folder, not a link or a file, owned by the
// user; a created folder is removed with rmdir (empty only, never a file).
// Anything else is kept and said so ("kept P (now a link, ...)").
func Uninstall(ctx context.Context, env Env, w io.Writer, ownDirs ...string) error {
	var errs []error
	for _, t := range All(env) {
		if env.Supported(t.Name()) != nil {
			fmt.Fprintf(w, "%s: macOS only, nothing to undo\n", t.Name())
			continue
		}
		if c, ok := t.(*Coredump); ok {
			st := c.State(ctx)
			if _, daemon, _ := readJob(c.daemonPath()); !st.On && !daemon {
				fmt.Fprintf(w, "%s: already off\n", t.Name())
				continue
			}
		}
		if _, err := SetAndVerify(ctx, t, false); err != nil {
			errs = append(errs, err)
			fmt.Fprintf(w, "%s: %v\n", t.Name(), err)
			continue
		}
		fmt.Fprintf(w, "%s: off\n", t.Name())
	}
	uid := env.writer().UID
	dirs, err := env.readCreated(uid)
	if err != nil {
		errs = append(errs, err)
		fmt.Fprintf(w, "created folders: %v\n", err)
	}
	home, err := os.OpenRoot(env.Home)
	if err != nil {
		errs = append(errs, fmt.Errorf("open the home folder %s: %w", env.Home, err))
		return errors.Join(errs...)
	}
	defer home.Close()
	for _, d := range ownDirs {
		rel, ok := env.underHome(d)
		if !ok {
			fmt.Fprintf(w, "kept %s (not under the home folder %s)\n", d, env.Home)
			continue
		}
		fi, err := home.Lstat(rel)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := stillOurFolder(d, fi, err, uid); err != nil {
			fmt.Fprintf(w, "kept %s (%v)\n", d, err)
			continue
		}
		// os.Root: no name or link inside leads out of the home folder,
		// and RemoveAll removes links, never what they point to.
		if err := home.RemoveAll(rel); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d, err))
		} else {
			fmt.Fprintf(w, "removed %s\n", d)
		}
	}
	// Deepest first, so parents empty out.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		rel, ok := env.underHome(d)
		if !ok {
			fmt.Fprintf(w, "kept %s (not under the home folder %s)\n", d, env.Home)
			continue
		}
		fi, err := home.Lstat(rel)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := stillOurFolder(d, fi, err, uid); err != nil {
			fmt.Fprintf(w, "kept %s (%v)\n", d, err)
			continue
		}
		switch err := removeEmptyDir(home, rel); {
		case err == nil:
			fmt.Fprintf(w, "removed %s\n", d)
		case errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST):
			fmt.Fprintf(w, "kept %s (not empty)\n", d)
		case !errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(w, "kept %s (%v)\n", d, err)
		}
	}
	return errors.Join(errs...)
}

// removeCreatedDir removes dir when Forkwatch created it (it is in the
// created-folders record), it is still the user's folder under the home
// folder, and it is empty; anything else is left as it is, silently: a
// folder the user made, or one that holds something, is not ours to take.
func (env Env) removeCreatedDir(dir string) error {
	uid := env.writer().UID
	dirs, err := env.readCreated(uid)
	if err != nil {
		return err
	}
	if !slices.Contains(dirs, dir) {
		return nil
	}
	rel, ok := env.underHome(dir)
	if !ok {
		return nil
	}
	home, err := os.OpenRoot(env.Home)
	if err != nil {
		return fmt.Errorf("open the home folder %s: %w", env.Home, err)
	}
	defer home.Close()
	fi, err := home.Lstat(rel)
	if err != nil || stillOurFolder(dir, fi, err, uid) != nil {
		return nil
	}
	switch err := removeEmptyDir(home, rel); {
	case err == nil, errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST), errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("remove %s: %w", dir, err)
	}
}

// readCreated reads the created-folders record without following a link.
func (env Env) readCreated(uid int) ([]string, error) {
	if env.createdFile() == "" {
		return nil, nil
	}
	d, err := safefs.OpenDir(env.SupportDir, uid)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b, err := d.ReadFile(filepath.Base(env.createdFile()), 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var dirs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if d := strings.TrimSpace(sc.Text()); d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// underHome returns p relative to the home folder, if p is an absolute,
// clean path strictly inside it.
func (env Env) underHome(p string) (string, bool) {
	if env.Home == "" || !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return "", false
	}
	rel, err := filepath.Rel(filepath.Clean(env.Home), p)
	if err != nil || rel == "." || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}

// stillOurFolder says why p is no longer what Forkwatch created: a folder
// (not a link, not a file) owned by the user.
func stillOurFolder(p string, fi fs.FileInfo, err error, uid int) error {
	switch {
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return errors.New("now a link, not the folder we made")
	case !fi.IsDir():
		return errors.New("now a file, not the folder we made")
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return fmt.Errorf("owned by uid %d, not by you (uid %d)", st.Uid, uid)
	}
	return nil
}

// removeEmptyDir removes the empty folder rel inside root with
// unlinkat(AT_REMOVEDIR) from its opened parent: rmdir(2) removes only an
// empty folder, never a file, and does not follow a link in the last name.
func removeEmptyDir(root *os.Root, rel string) error {
	parent, err := root.Open(filepath.Dir(rel))
	if err != nil {
		return err
	}
	defer parent.Close()
	return unix.Unlinkat(int(parent.Fd()), filepath.Base(rel), unix.AT_REMOVEDIR)
}

// MkdirRecorded creates dir (and its missing parents) the way toggles do,
// recording what it created for Uninstall.
func (env Env) MkdirRecorded(dir string) error { return env.mkdirAll(dir) }
