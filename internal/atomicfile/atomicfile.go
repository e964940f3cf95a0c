// Package atomicfile replaces files so that a reader, a crash or a full disk
// never sees a half-written one: temporary file in the same folder, fsync,
// rename, folder fsync. Symlinked dotfiles are followed to their target, and
// a file keeps its mode and owner. Both the watcher's state and the toggles'
// edits of start-up files go through it.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrChanged means a file changed between our read and our write (the user
// saved it in an editor meanwhile); nothing was written.
var ErrChanged = errors.New("file changed since it was read")

// WriteAtomic replaces path with data so that a reader sees either the old
// or the new content, never a mix, and a crash or full disk leaves the old
// file whole: the data goes to a temporary file in the same directory, is
// fsynced, and is renamed over path; the directory is fsynced after.
//
// If path is a symlink (dotfile managers link ~/.zshrc into a repository),
// the link's target is replaced and the link is kept. The file keeps its mode
// (perm is used only for a new file) and, where we may set it, its owner.
func WriteAtomic(path string, data []byte, perm fs.FileMode) error {
	return Writer{UID: os.Getuid()}.Write(path, data, perm)
}

// Writer writes as a given user: a file owned by someone else is refused,
// and so is a symbolic link on the way to it owned by someone else (or by
// anyone but root) — for root too. Run as root with a user's HOME (`sudo
// -E`), Forkwatch would otherwise follow the user's ~/.profile link to a
// root-owned file and append to it. Faults lets tests inject a full disk or
// a racing edit.
type Writer struct {
	UID    int
	Faults Faults
}

// Faults are test hooks between the steps of a write; nil means none.
type Faults struct {
	// Write replaces the write of the data into the temporary file.
	Write func(f *os.File, data []byte) (int, error)
	// BeforeRename runs after the temporary file is complete.
	BeforeRename func(tmp string) error
}

// Write is WriteAtomic for w's user.
func (w Writer) Write(path string, data []byte, perm fs.FileMode) error {
	target, err := w.Resolve(path)
	if err != nil {
		return err
	}
	return w.write(target, data, perm, nil)
}

// ReplaceIfUnchanged is WriteAtomic that first checks that the file still
// holds old (what the caller read and edited); otherwise it returns
// ErrChanged and writes nothing. old == nil means the file must not exist.
func ReplaceIfUnchanged(path string, old, data []byte, perm fs.FileMode) error {
	return Writer{UID: os.Getuid()}.ReplaceIfUnchanged(path, old, data, perm)
}

// ReplaceIfUnchanged is the package function for w's user.
func (w Writer) ReplaceIfUnchanged(path string, old, data []byte, perm fs.FileMode) error {
	target, err := w.Resolve(path)
	if err != nil {
		return err
	}
	return w.write(target, data, perm, func() error {
		cur, err := os.ReadFile(target)
		switch {
		case errors.Is(err, fs.ErrNotExist) && old == nil:
			return nil
		case err != nil:
			return fmt.Errorf("re-read %s: %w", target, err)
		case old == nil || !bytes.Equal(cur, old):
			return fmt.Errorf("%s: %w", target, ErrChanged)
		}
		return nil
	})
}

// Resolve follows symlinks to the file that holds the content. A missing
// file resolves to itself; a dangling symlink resolves to its target path.
// It checks no owner: a writer uses Writer.Resolve.
func Resolve(path string) (string, error) {
	return resolve(path, -1)
}

// Resolve is Resolve that refuses a link owned by anyone but w's user or
// root (a link root follows must be root's): the link's owner chose
// where it leads.
func (w Writer) Resolve(path string) (string, error) {
	return resolve(path, w.UID)
}

func resolve(path string, uid int) (string, error) {
	for i := 0; i < 40; i++ {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", fmt.Errorf("stat %s: %w", path, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 && uid >= 0 {
			if o := ownerOf(fi); o != nil && o.uid != uid && o.uid != 0 {
				return "", fmt.Errorf("%s is a link owned by uid %d, not by you (uid %d); not followed: %w", path, o.uid, uid, fs.ErrPermission)
			}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.Mode().IsRegular() {
				return "", fmt.Errorf("%s is not a regular file", path)
			}
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("read link %s: %w", path, err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// CheckOwner returns an error unless fi (the file at path) is owned by w's
// user. Root gets no exception.
func (w Writer) CheckOwner(path string, fi fs.FileInfo) error {
	if owner := ownerOf(fi); owner != nil && owner.uid != w.UID {
		return fmt.Errorf("%s is owned by uid %d, not by you (uid %d): %w", path, owner.uid, w.UID, fs.ErrPermission)
	}
	return nil
}

// write replaces target (already resolved) with data; check, if set, runs
// just before the rename and can veto it.
func (w Writer) write(target string, data []byte, perm fs.FileMode, check func() error) (err error) {
	h := w.Faults
	dir := filepath.Dir(target)
	mode := perm
	var owner *fileOwner
	if fi, err := os.Stat(target); err == nil {
		mode = fi.Mode().Perm()
		owner = ownerOf(fi)
		// A read-only file is a choice the user made: say so, write nothing.
		if fi.Mode().Perm()&0o200 == 0 {
			return fmt.Errorf("%s is read-only (mode %v): %w", target, fi.Mode().Perm(), fs.ErrPermission)
		}
		// A file someone else owns (root, after a `sudo` edit) must not be
		// replaced by one we own, though the folder would let us. Root is
		// held to the same rule: root writing a user's file (or, through
		// the user's link, a file of root's) is root run with the user's
		// HOME, and is refused.
		if err := w.CheckOwner(target, fi); err != nil {
			return err
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		// A new file: the folder it goes into must be ours or root's (for
		// root: root's). Root does not create files in a user's folder.
		if dfi, err := os.Stat(dir); err == nil {
			if o := ownerOf(dfi); o != nil && o.uid != w.UID && o.uid != 0 {
				return fmt.Errorf("%s: the folder is owned by uid %d, not by you (uid %d): %w", dir, o.uid, w.UID, fs.ErrPermission)
			}
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".forkwatch-*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	write := tmp.Write
	if h.Write != nil {
		write = func(b []byte) (int, error) { return h.Write(tmp, b) }
	}
	if _, err := write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if owner != nil {
		// Only root may give a file away; for an ordinary user the owner is
		// already right. Ignore EPERM.
		_ = tmp.Chown(owner.uid, owner.gid)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if h.BeforeRename != nil {
		if err := h.BeforeRename(tmp.Name()); err != nil {
			return err
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp.Name(), target, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
