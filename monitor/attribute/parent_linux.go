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
	"syscall"
	"time"
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

// readProcFile reads a small /proc file with open, read and close alone:
// os.ReadFile also makes the descriptor non-blocking, tries to add it to
// the poller and stats it, six more system calls for each of the files
// attribution reads on the detection path. A read that does not fill the
// buffer is the end of the file: stat and status are seq_files whose one
// show() call makes the whole text, which a read copies out as far as the
// buffer takes it (fs/seq_file.c, seq_read_iter), and cmdline's read
// copies the arguments until the buffer or the arguments end
// (fs/proc/base.c, get_mm_cmdline); so the read that would return nothing
// is not made. The buffer starts at 4 KB, larger than any of the three but
// a long command line, for which it grows.
func readProcFile(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		want := cap(buf) - len(buf)
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
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

func readProc(bootTime func() (time.Time, error), pid int) (*liveProc, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := readProcFile(dir + "/stat")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return nil, errNoProc
		}
		return nil, fmt.Errorf("read %s/stat: %w", dir, err)
	}
	p, err := parseProcStat(pid, stat, bootTime)
	if err != nil {
		return nil, err
	}
	if cmd, err := readProcFile(dir + "/cmdline"); err == nil {
		p.Argv = splitNUL(cmd)
	}
	if exe, err := os.Readlink(dir + "/exe"); err == nil {
		p.Exe = exe
	}
	if cwd, err := os.Readlink(dir + "/cwd"); err == nil {
		p.Cwd = cwd
	}
	p.UID = -1
	if status, err := readProcFile(dir + "/status"); err == nil {
		p.UID = parseStatusUID(status)
	}
	return p, nil
}

// parseProcStat reads "PID (COMM) STATE PPID ... STARTTIME ..."; the name
// may hold spaces and parentheses, so the fields start after the last ')'.
func parseProcStat(pid int, stat []byte, bootTime func() (time.Time, error)) (*liveProc, error) {
	open := bytes.IndexByte(stat, '(')
	end := bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return nil, fmt.Errorf("parse /proc/%d/stat: no name", pid)
	}
	fields := strings.Fields(string(stat[end+1:]))
	// fields[0] is field 3 (state): ppid is field 4, starttime field 22.
	if len(fields) < 20 {
		return nil, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return nil, fmt.Errorf("parse /proc/%d/stat ppid: %w", pid, err)
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
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
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				return -1
			}
			n, err := strconv.Atoi(f[0])
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
