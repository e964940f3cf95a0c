package forktrace

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/forkwatch/forkwatch/internal/trust"
)

// The tracer's two files are written into a folder that other programs
// (pip, the user's tools, and for a shared interpreter other users) also
// write into. A name checked with Lstat and then written through its path
// can be swapped for a symbolic link in between, and the write would land
// on whatever the link names (another of the user's files). So the folder
// is opened once, checked on its descriptor, and every name in it is
// opened, created and renamed relative to that descriptor (openat(2),
// renameat(2)) with O_NOFOLLOW: a link is never followed, and the new file
// is created with O_EXCL under a fresh name, so nothing that existed
// before is ever opened for writing.

// siteDir is an open site-packages folder.
type siteDir struct {
	path string
	fd   int
}

// openSite opens site for writing the tracer, after the checks that make
// it ours to write: the folder and every folder above it pass
// trust.CheckFolder (owned by the user or root, not writable by group or
// others), the folder itself belongs to the user, and, for an interpreter
// that is not a venv, it is not a shared framework install.
func openSite(site string, venv bool) (*siteDir, error) {
	uid := os.Getuid()
	if !venv && strings.Contains(site, "/Python.framework/") {
		return nil, fmt.Errorf("site-packages %s belongs to a shared framework install (every user's Python): make a venv from it and trace that: %w", site, ErrRefused)
	}
	if err := trust.CheckFolder(site, uid); err != nil {
		return nil, fmt.Errorf("site-packages %s: %w: %w", site, err, ErrRefused)
	}
	fd, err := unix.Open(site, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open site-packages %s: %w", site, err)
	}
	d := &siteDir{path: site, fd: fd}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		d.Close()
		return nil, fmt.Errorf("stat site-packages %s: %w", site, err)
	}
	// Checked again on the descriptor: what we write into is what we judged.
	switch {
	case int(st.Uid) != uid:
		d.Close()
		return nil, fmt.Errorf("site-packages %s belongs to uid %d; Forkwatch writes only into your own (run it as that user, or trace a venv you own): %w", site, st.Uid, ErrRefused)
	case st.Mode&0o022 != 0:
		d.Close()
		return nil, fmt.Errorf("site-packages %s is writable by others (mode %o): %w", site, st.Mode&0o777, ErrRefused)
	}
	return d, nil
}

func (d *siteDir) Close() error { return unix.Close(d.fd) }

// readOurs reads name in the folder without following a link: nil data
// and nil error when it does not exist; ErrNotOurs for a link, a FIFO, a
// device or a folder.
func (d *siteDir) readOurs(name string, max int64) ([]byte, error) {
	p := filepath.Join(d.path, name)
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, nil
	case errors.Is(err, unix.ELOOP):
		return nil, fmt.Errorf("%s is a symbolic link: %w", p, ErrNotOurs)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", p, ErrNotOurs)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", p, max, ErrNotOurs)
	}
	return data, nil
}

// refuseForeignAt fails when name exists in the folder and is not a file
// Forkwatch wrote.
func (d *siteDir) refuseForeignAt(name string) error {
	data, err := d.readOurs(name, 1<<20)
	if err != nil || data == nil {
		return err
	}
	p := filepath.Join(d.path, name)
	if strings.HasSuffix(name, ".pth") {
		if !isOurPth(data) {
			return fmt.Errorf("%s: %w", p, ErrNotOurs)
		}
	} else if _, ok := moduleSpool(data); !ok {
		return fmt.Errorf("%s: %w", p, ErrNotOurs)
	}
	return nil
}

// write puts data in the folder under name: a new file under a random
// name (O_CREAT|O_EXCL|O_NOFOLLOW), written and synced, then renamed over
// name within the folder, then the folder synced. rename(2) replaces a
// link at name rather than following it.
func (d *siteDir) write(name string, data []byte, perm uint32) (err error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := "." + name + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	fd, err := unix.Openat(d.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Join(d.path, tmp), err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(d.path, tmp))
	defer func() {
		if err != nil {
			f.Close()
			_ = unix.Unlinkat(d.fd, tmp, 0)
		}
	}()
	if err := unix.Fchmod(fd, perm); err != nil { // the umask does not decide
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	if err := unix.Renameat(d.fd, tmp, d.fd, name); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, filepath.Join(d.path, name), err)
	}
	if err := unix.Fsync(d.fd); err != nil {
		return fmt.Errorf("sync %s: %w", d.path, err)
	}
	return nil
}

// remove unlinks name in the folder (never following a link; a missing
// file is fine).
func (d *siteDir) remove(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s: %w", filepath.Join(d.path, name), err)
	}
	return nil
}
