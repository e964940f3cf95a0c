//go:build linux

package attribute

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// On Linux (where Forkwatch is developed and tested) a process is read
// from /proc (proc(5)): /proc/PID/stat for the short name, parent pid and
// start time (field 22, clock ticks since boot), /proc/PID/cmdline (NUL-
// separated argv) and the /proc/PID/cwd link.

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports
// (sysconf(_SC_CLK_TCK) is not reachable without cgo; proc(5) documents
// the unit).
const clockTicks = 100

// newProcReader returns a reader that reads the boot time once, from
// /proc/stat ("btime"): it does not change while the system runs.
func newProcReader() procReader {
	bootTime := sync.OnceValues(readBootTime)
	return func(pid int) (*liveProc, error) { return readProc(bootTime, pid) }
}

func readBootTime() (time.Time, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, fmt.Errorf("read /proc/stat: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("parse btime %q: %w", v, err)
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, errors.New("no btime in /proc/stat")
}

// readProcFile reads a small /proc file (path relative to dirfd, or
// absolute with dirfd unix.AT_FDCWD) into buf[:0], grown when the file is
// larger, with open, read and close alone:
// os.ReadFile also makes the descriptor non-blocking, tries to add it to
// the poller and stats it, six more system calls for each of the files
// attribution reads on the detection path. A read that does not fill the
// buffer is the end of the file: stat and status are seq_files whose one
// show() call makes the whole text, which a read copies out as far as the
// buffer takes it (fs/seq_file.c, seq_read_iter), and cmdline's read
// copies the arguments until the buffer or the arguments end
// (fs/proc/base.c, get_mm_cmdline); so the read that would return nothing
// is not made. readProcAt's buffer starts at 4 KB, larger than any of the
// three but a long command line, for which it grows.
func readProcFile(dirfd int, path string, buf []byte) ([]byte, error) {
	fd, err := unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		want := cap(buf) - len(buf)
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		buf = buf[:len(buf)+n]
		if n < want {
			return buf, nil
		}
	}
}

// readProc reads a process's entry through one descriptor of its
// /proc/PID folder, held for all five reads (readProcAt).
func readProc(bootTime func() (time.Time, error), pid int) (*liveProc, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	dirfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		dirfd, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return nil, errNoProc
		}
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dirfd)
	return readProcAt(bootTime, pid, dirfd)
}

// readProcAt reads the process whose /proc folder dirfd holds. The folder
// stands for the process it was opened for, not for its number: the
// kernel keeps that process's struct pid in the folder's inode and looks
// each entry up through it (fs/proc/base.c: proc_pident_lookup and
// proc_exe_link call get_proc_task, and give ENOENT once it finds no
// task), so after the process has ended nothing more is read, even when
// its number has gone to a new process (TestProcFolderOutlivesItsProcess
// shows the reads go through the folder, and an ended process's folder
// gives errNoProc). The command line, links and owner are then those of the process whose
// start time the stat gave, which attribution checks against the report;
// by paths, the number could change hands between the reads. Each file is
// also found from the folder in one step, not from / in three: of reads
// of a live process's five files 20 ms apart, those through the folder
// took 132-178 µs (medians of 50, four runs), those by paths 148-203.
func readProcAt(bootTime func() (time.Time, error), pid, dirfd int) (*liveProc, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	// One buffer for the three files and two links: nothing kept refers
	// to it (each string is copied out), and the read is on the detection
	// path, where each 4 KB made anew is memory to clear and fault in.
	buf := make([]byte, 0, 4096)
	stat, err := readProcFile(dirfd, "stat", buf)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return nil, errNoProc
		}
		return nil, fmt.Errorf("read %s/stat: %w", dir, err)
	}
	p, err := parseProcStat(pid, stat, bootTime)
	if err != nil {
		return nil, err
	}
	buf = stat[:0]
	if cmd, err := readProcFile(dirfd, "cmdline", buf); err == nil {
		p.Argv = splitNUL(cmd)
		buf = cmd[:0]
	}
	p.Exe, buf = readLinkAt(dirfd, "exe", buf)
	p.Cwd, buf = readLinkAt(dirfd, "cwd", buf)
	p.UID = -1
	if status, err := readProcFile(dirfd, "status", buf); err == nil {
		p.UID = parseStatusUID(status)
	}
	return p, nil
}

// readLinkAt reads the link name in dirfd, or "" when it cannot be read
// (another user's process, a process that ended), using buf's room and
// returning it (grown, for a target longer than it, which is read again
// with more room, as os.Readlink does).
func readLinkAt(dirfd int, name string, buf []byte) (string, []byte) {
	for size := max(cap(buf), 256); size <= 1<<16; size *= 4 {
		if cap(buf) < size {
			buf = make([]byte, 0, size)
		}
		b := buf[:size]
		n, err := unix.Readlinkat(dirfd, name, b)
		for err == unix.EINTR {
			n, err = unix.Readlinkat(dirfd, name, b)
		}
		if err != nil || n < 0 {
			return "", buf
		}
		if n < size {
			return string(b[:n]), buf
		}
	}
	return "", buf
}

// parseProcStat reads "PID (COMM) STATE PPID ... STARTTIME ..."; the name
// may hold spaces and parentheses, so the fields start after the last ')'.
func parseProcStat(pid int, stat []byte, bootTime func() (time.Time, error)) (*liveProc, error) {
	open := bytes.IndexByte(stat, '(')
	end := bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return nil, fmt.Errorf("parse /proc/%d/stat: no name", pid)
	}
	// After the name: field 3 (state), then ppid (field 4) and, further,
	// starttime (field 22).
	var fields [20][]byte
	n := 0
	for rest := stat[end+1:]; n < len(fields); n++ {
		rest = bytes.TrimLeft(rest, " \t\n\v\f\r")
		if len(rest) == 0 {
			break
		}
		i := bytes.IndexAny(rest, " \t\n\v\f\r")
		if i < 0 {
			i = len(rest)
		}
		fields[n], rest = rest[:i], rest[i:]
	}
	if n < 20 {
		return nil, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, n)
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return nil, fmt.Errorf("parse /proc/%d/stat ppid: %w", pid, err)
	}
	ticks, err := strconv.ParseInt(string(fields[19]), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("parse /proc/%d/stat starttime: %w", pid, err)
	}
	p := &liveProc{PID: pid, PPID: ppid, Comm: string(stat[open+1 : end])}
	if bt, err := bootTime(); err == nil {
		p.Start = bt.Add(time.Duration(ticks) * time.Second / clockTicks)
	}
	return p, nil
}

// parseStatusUID reads the real user id from /proc/PID/status's
// "Uid:\treal\teffective\tsaved\tfs" line (proc(5)); -1 if there is none.
func parseStatusUID(status []byte) int {
	for rest := status; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if v, ok := bytes.CutPrefix(line, []byte("Uid:")); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				return -1
			}
			n, err := strconv.Atoi(string(f[0]))
			if err != nil || n < 0 {
				return -1
			}
			return n
		}
	}
	return -1
}

func splitNUL(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}
