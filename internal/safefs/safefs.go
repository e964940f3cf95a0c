// Package safefs opens the files of a folder Forkwatch owns (the support
// folder: settings.lock, forkwatch.pid, created-folders, state.json, the
// debug folder) without following a link anywhere: the folder itself is
// checked with lstat and opened once, and every name in it is opened from
// that open folder (openat) with O_NOFOLLOW. A link planted in place of
// forkwatch.pid, or a support folder replaced by a link, is refused rather
// than followed: run as root with the user's HOME (`sudo -E forkwatch
// watch`), following it would truncate or chmod a file of root's that the
// user chose.
//
// It is built on os.Root (Go 1.24), which opens names relative to the
// folder's descriptor and never lets a name or a link lead out of it; on
// top of that, the last name must not be a link at all, must be a regular
// file (or a folder, for Mkdir/OpenDir) and must belong to the user.
package safefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrUnsafe is what every refusal matches with errors.Is.
var ErrUnsafe = errors.New("refused")

// Dir is an open folder owned by one user.
type Dir struct {
	root *os.Root
	path string
	uid  int
}

// OpenDir opens path, which must be a folder (not a link to one) owned by
// uid and writable by nobody else.
func OpenDir(path string, uid int) (*Dir, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := checkFolder(path, fi, uid); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// The folder opened is the one checked (not swapped for a link since).
	got, err := r.Stat(".")
	if err != nil || !os.SameFile(fi, got) {
		r.Close()
		return nil, fmt.Errorf("open %s: %w: the folder changed while it was opened", path, ErrUnsafe)
	}
	return &Dir{root: r, path: path, uid: uid}, nil
}

// MkdirAndOpen creates path (and its missing parents, mode perm) when
// missing, then opens it with OpenDir.
func MkdirAndOpen(path string, perm fs.FileMode, uid int) (*Dir, error) {
	if err := os.MkdirAll(path, perm); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return OpenDir(path, uid)
}

func checkFolder(path string, fi fs.FileInfo, uid int) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s: %w: a link, not a folder", path, ErrUnsafe)
	case !fi.IsDir():
		return fmt.Errorf("%s: %w: not a folder", path, ErrUnsafe)
	}
	if o := owner(fi); o != uid {
		return fmt.Errorf("%s: %w: owned by uid %d, not by you (uid %d)", path, ErrUnsafe, o, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s: %w: writable by others (mode %v)", path, ErrUnsafe, fi.Mode().Perm())
	}
	return nil
}

func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// Path is the folder's path as opened.
func (d *Dir) Path() string { return d.path }

// Root is the open folder, for what this package does not wrap.
func (d *Dir) Root() *os.Root { return d.root }

// Close closes the folder.
func (d *Dir) Close() error { return d.root.Close() }

// OpenFile opens name (a name inside the folder, no "..") with
// O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC added: a link in its place is refused
// (ELOOP), a FIFO does not block the open. The file opened must be a
// regular file owned by the folder's user; otherwise it is closed and an
// error returned. O_TRUNC is applied only after that check, so a file that
// is refused is never truncated.
func (d *Dir) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	full := filepath.Join(d.path, name)
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%s: %w: not a name inside %s", name, ErrUnsafe, d.path)
	}
	trunc := flag&os.O_TRUNC != 0
	f, err := d.root.OpenFile(name, (flag&^os.O_TRUNC)|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
	if err != nil {
		// os.Root says ELOOP for a link in the folder, "path escapes
		// from parent" for one leading out: both are a link.
		if fi, lerr := d.root.Lstat(name); errors.Is(err, syscall.ELOOP) || lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("open %s: %w: a link", full, ErrUnsafe)
		}
		return nil, fmt.Errorf("open %s: %w", full, err)
	}
	fi, err := f.Stat()
	if err == nil {
		switch {
		case !fi.Mode().IsRegular():
			err = fmt.Errorf("open %s: %w: not a regular file", full, ErrUnsafe)
		case owner(fi) != d.uid:
			err = fmt.Errorf("open %s: %w: owned by uid %d, not by you (uid %d)", full, ErrUnsafe, owner(fi), d.uid)
		}
	}
	if err == nil && trunc {
		err = f.Truncate(0)
	}
	if err == nil {
		// Back to blocking reads and writes for the caller.
		err = clearNonblock(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads name (OpenFile's rules) up to max bytes.
func (d *Dir) ReadFile(name string, max int64) ([]byte, error) {
	f, err := d.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("read %s: %d bytes, more than %d", filepath.Join(d.path, name), fi.Size(), max)
	}
	b := make([]byte, fi.Size())
	n, err := f.ReadAt(b, 0)
	if err != nil && n != len(b) {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(d.path, name), err)
	}
	return b[:n], nil
}

// OpenDir opens a folder inside this one (not a link) with the same rules.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	full := filepath.Join(d.path, name)
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%s: %w: not a name inside %s", name, ErrUnsafe, d.path)
	}
	fi, err := d.root.Lstat(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", full, err)
	}
	if err := checkFolder(full, fi, d.uid); err != nil {
		return nil, err
	}
	r, err := d.root.OpenRoot(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", full, err)
	}
	if got, err := r.Stat("."); err != nil || !os.SameFile(fi, got) {
		r.Close()
		return nil, fmt.Errorf("open %s: %w: the folder changed while it was opened", full, ErrUnsafe)
	}
	return &Dir{root: r, path: full, uid: d.uid}, nil
}

// Mkdir makes a folder inside this one (mode perm) unless it exists, and
// opens it; an existing one must pass OpenDir's rules.
func (d *Dir) Mkdir(name string, perm fs.FileMode) (*Dir, error) {
	if err := d.root.Mkdir(name, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", filepath.Join(d.path, name), err)
	}
	return d.OpenDir(name)
}
