package monitor

import (
	"github.com/forkwatch/forkwatch/monitor/report"
	"time"

	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// SweepResult is one report found by Sweep.
type SweepResult struct {
	Path   string
	Report *report.Report
	Err    error
	// Known is set when the report's ID was already in the store: it was
	// skipped by its ID without being read whole or parsed, and Report
	// holds only its ID and Path.
	Known bool
}

// SweepOptions are Sweep's inputs besides the folders.
type SweepOptions struct {
	// Skip lists paths not to read at all (the store knows them).
	Skip map[string]bool
	// Bad maps the bad files the store remembers to their BadID: one
	// whose size or time changed since is read even though Skip lists it.
	Bad map[string]string
	// KnownID reports whether a crash ID is already in the store (a report
	// moved into Retired/ keeps its ID under a new path). Called from the
	// sweep's workers at once: it must be safe for concurrent use. Nil:
	// nothing is known.
	KnownID func(id string) bool
}

// Sweep reads and classifies the reports already in dirs, skipping the
// paths in skip. See SweepWith.
func Sweep(ctx context.Context, dirs []string, skip map[string]bool, out func(SweepResult)) map[string]bool {
	return SweepWith(ctx, dirs, SweepOptions{Skip: skip}, out)
}

// sweepBatch is how many results a worker hands over at once: one channel
// operation per batch, not per report.
const sweepBatch = 64

// SweepWith reads and classifies the reports already in dirs, with one
// worker per CPU. It calls out from one goroutine (the caller's), in no
// particular order, and returns the set of report paths present.
//
// It is the start-up sweep, so it is made to keep pace with `grep -rl`
// over the same folder (BenchmarkSweepVsGrep):
//   - each folder is opened once and its reports opened relative to it
//     (openat: one path component to resolve, not the whole path);
//   - the work queue is ordered by size, largest first, and shared by the
//     workers through one atomic index, so that no worker is left with a
//     large report at the end while the others wait, and no channel
//     operation is made per report;
//   - each report's start is read first and report.Peek decides what the
//     rest needs: a report whose ID the store knows (KnownID) is skipped
//     without being read further or parsed, and an .ips whose header names
//     another kind of diagnostic is not read further; only the others are
//     read whole and parsed;
//   - each worker reads into its own buffer, reused for every report, and
//     results go back in batches.
func SweepWith(ctx context.Context, dirs []string, opt SweepOptions, out func(SweepResult)) map[string]bool {
	present := map[string]bool{}
	var jobs []sweepJob
	var odd []string // not regular files: refused, never read
	var folders []*os.File
	defer func() {
		for _, f := range folders {
			f.Close()
		}
	}()
	for _, d := range dirs {
		f, names := listReports(d)
		if f == nil {
			continue
		}
		folders = append(folders, f)
		dirfd := int(f.Fd())
		for _, name := range names {
			p := filepath.Join(d, name)
			var st unix.Stat_t
			if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				continue // gone since the listing
			}
			mode := st.Mode & unix.S_IFMT
			if mode == unix.S_IFDIR {
				continue
			}
			present[p] = true
			skip := opt.Skip[p]
			if id, bad := opt.Bad[p]; bad && id != BadID(st.Size, time.Unix(st.Mtim.Unix())) {
				skip = false // changed since it was reported: read it afresh
			}
			if !skip && mode != unix.S_IFREG {
				// Symlinks, FIFOs and devices are never read: passed on
				// as ErrNotRegular, for the watcher to refuse them once.
				odd = append(odd, p)
			}
			if skip || mode != unix.S_IFREG {
				continue
			}
			jobs = append(jobs, sweepJob{dirfd: dirfd, name: name, path: p, size: st.Size})
		}
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].size > jobs[j].size })

	var next atomic.Int64
	batches := make(chan []SweepResult, 8)
	workers := max(1, min(runtime.GOMAXPROCS(0), len(jobs)))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			batch := make([]SweepResult, 0, sweepBatch)
			send := func() bool {
				if len(batch) == 0 {
					return true
				}
				select {
				case batches <- batch:
					batch = make([]SweepResult, 0, sweepBatch)
					return true
				case <-ctx.Done():
					return false
				}
			}
			for {
				i := next.Add(1) - 1
				if i >= int64(len(jobs)) || ctx.Err() != nil {
					break
				}
				batch = append(batch, jobs[i].read(&buf, opt.KnownID))
				if len(batch) == sweepBatch && !send() {
					return
				}
			}
			send()
		}()
	}
	go func() { wg.Wait(); close(batches) }()
	for b := range batches {
		for _, r := range b {
			out(r)
		}
	}
	for _, p := range odd {
		if ctx.Err() != nil {
			break
		}
		out(SweepResult{Path: p, Err: fmt.Errorf("%s: %w", p, report.ErrNotRegular)})
	}
	return present
}

// listReports opens a folder and lists the names in it that may be crash
// reports. It returns a nil file when the folder cannot be read.
func listReports(dir string) (*os.File, []string) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	f := os.NewFile(uintptr(fd), dir)
	all, err := f.Readdirnames(-1)
	if err != nil && len(all) == 0 {
		f.Close()
		return nil, nil
	}
	names := all[:0]
	for _, n := range all {
		if report.IsReportName(n) {
			names = append(names, n)
		}
	}
	return f, names
}

// sweepJob is one report to read, by its name in an open folder.
type sweepJob struct {
	dirfd int
	name  string
	path  string
	size  int64
}

// read reads and classifies one report into *buf (grown as needed and
// kept for the next), as report.ReadFile does: a regular file (as listed),
// never blocking on a FIFO, at most report.MaxReportSize bytes; a symlink
// put in its place since the listing is refused.
func (j *sweepJob) read(buf *[]byte, known func(string) bool) SweepResult {
	res := SweepResult{Path: j.path}
	fd, err := openat(j.dirfd, j.name)
	if err != nil {
		if err == unix.ELOOP {
			err = fmt.Errorf("%s is a symlink now: %w", j.path, report.ErrNotRegular)
		} else {
			err = &fs.PathError{Op: "open", Path: j.path, Err: err}
		}
		res.Err = err
		return res
	}
	defer unix.Close(fd)
	// No fstat here: the listing's fstatat gave the type and the size, and
	// what may have been put in the file's place since cannot do harm
	// through this descriptor (O_NOFOLLOW: not a symlink; O_NONBLOCK: a
	// FIFO reads as empty; never more than MaxReportSize bytes are read).
	// grep -r makes the same four calls per file: open, stat, read, close.
	if j.size > report.MaxReportSize {
		res.Err = fmt.Errorf("%s is %d bytes (limit %d): %w", j.path, j.size, report.MaxReportSize, report.ErrTooLarge)
		return res
	}
	// The start first: Peek may decide that nothing more is needed.
	want := int(j.size) + 1 // one byte more to notice a file still growing
	if cap(*buf) < want {
		*buf = make([]byte, want)
	}
	b := (*buf)[:want]
	first := min(want, report.PeekSize)
	n, err := readOnce(fd, b[:first])
	if err != nil {
		res.Err = &fs.PathError{Op: "read", Path: j.path, Err: err}
		return res
	}
	id, verdict := report.Peek(b[:n])
	if verdict != nil {
		res.Err = fmt.Errorf("%s: %w", j.path, verdict)
		return res
	}
	if id != "" && known != nil && known(id) {
		res.Report, res.Known = &report.Report{ID: id, Path: j.path}, true
		return res
	}
	// A short read is the end of a regular file. Otherwise the rest, and
	// on past the size fstat gave while the file grows.
	for n == len(b) || n == first && first < len(b) {
		m, err := readOnce(fd, b[n:])
		if err != nil {
			res.Err = &fs.PathError{Op: "read", Path: j.path, Err: err}
			return res
		}
		n += m
		if m == 0 || n < len(b) {
			break
		}
		if n > report.MaxReportSize {
			res.Err = fmt.Errorf("%s grew past %d bytes: %w", j.path, report.MaxReportSize, report.ErrTooLarge)
			return res
		}
		b = append(b, make([]byte, len(b))...)
		*buf = b
	}
	r, err := report.Parse(b[:n])
	if r != nil {
		r.Path = j.path
	}
	if err != nil {
		err = fmt.Errorf("%s: %w", j.path, err)
	}
	res.Report, res.Err = r, err
	return res
}

// openat opens a report in its folder without following a symlink and
// without blocking on a FIFO.
func openat(dirfd int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readOnce is one read(2), retried when a signal interrupts it.
func readOnce(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err != unix.EINTR {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}
