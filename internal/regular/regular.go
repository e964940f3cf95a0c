// Package regular reads files that other programs may have planted: only
// regular files (a FIFO would block, a device never end), never more than a
// limit, checked on the open descriptor so that a file swapped after a stat
// cannot slip through.
package regular

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

var (
	// ErrNotRegular means the path is not a regular file (FIFO, device,
	// directory, or a symlink to one of those).
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge means the file is larger than the limit. The wording is
	// the one Forkwatch has always printed for reports.
	ErrTooLarge = errors.New("file too large for a crash report")
)

// Read opens path without blocking (a FIFO would otherwise wait for a
// writer), checks on the open descriptor that it is a regular file (so a file
// swapped after a Stat cannot slip through), and reads at most limit bytes.
// It uses the system calls directly: a sweep reads thousands of files, and
// os.File would try to register each non-blocking descriptor with the
// network poller first.
func Read(path string, limit int64) ([]byte, error) {
	var buf []byte
	return ReadInto(path, limit, &buf)
}

// ReadInto is Read reading into *bp, which it may grow.
func ReadInto(path string, limit int64, bp *[]byte) ([]byte, error) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG {
		return nil, fmt.Errorf("%s is a %s: %w", path, kindOfMode(uint32(st.Mode)), ErrNotRegular)
	}
	if st.Size > limit {
		return nil, fmt.Errorf("%s is %d bytes (limit %d): %w", path, st.Size, limit, ErrTooLarge)
	}
	// One read of the size fstat gave, plus a byte to notice a file that is
	// still growing: a short read ends it (a file written meanwhile is read
	// again by the watcher), a full buffer means read on.
	if int64(cap(*bp)) < st.Size+1 {
		*bp = make([]byte, st.Size+1)
	}
	buf := (*bp)[:st.Size+1]
	n := 0
	for {
		m, err := retryEINTR(func() (int, error) { return syscall.Read(fd, buf[n:]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		n += m
		if m == 0 || n < len(buf) {
			return buf[:n], nil
		}
		if int64(n) > limit {
			return nil, fmt.Errorf("%s grew past %d bytes: %w", path, limit, ErrTooLarge)
		}
		buf = append(buf, make([]byte, len(buf))...)
		*bp = buf
	}
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

func kindOfMode(m uint32) string {
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "directory"
	case syscall.S_IFIFO:
		return "FIFO"
	case syscall.S_IFSOCK:
		return "socket"
	case syscall.S_IFCHR, syscall.S_IFBLK:
		return "device"
	}
	return "special file"
}

// KindOf names a file mode that is not a regular file, for messages.
func KindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	default:
		return "special file"
	}
}
