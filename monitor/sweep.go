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
	"sync"

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
func Sweep(ctx context.Context, dirs []string, skip map[string]bool, out func(SweepResult)) (missing []string) {
	return SweepWith(ctx, dirs, SweepOptions{Skip: skip}, out)
}

// sweepBatch is how many results a worker hands over at once: one channel
// operation per batch, not per report.
const sweepBatch = 64

// SweepWith reads and classifies the reports already in dirs, with one
// worker per CPU. It calls out from one goroutine (the caller's), in no
// particular order, and returns the paths in opt.Skip it did not find (the
// known reports that may be gone: any not in dirs among them). Only the
// known paths are kept in a set while the folder is listed: a set of every
// path listed took a twentieth of a first run's allocations, growing.
//
// It is the start-up sweep, so it is made to keep pace with `grep -rl`
// over the same folder (BenchmarkSweepVsGrep), in system calls first: a
// report costs an openat, one read and a close (grep makes four or five
// calls per file), and nothing is done one report at a time before the
// workers start.
//   - Each folder is opened once and listed with the file types the
//     listing gives (getdents' d_type): no stat per entry. A stat of every
//     entry, to order the work by size, took 19 ms of a 145 ms sweep of
//     10,000 reports on one core before any report was read; the work it
//     balanced is at most one report's parse (about 0.1 ms) at the end.
//     Only a file the store remembers as bad is stat'ed, to see whether
//     it changed.
//   - The folder is listed in batches of sweepListBatch entries, each
//     handed to the workers as soon as it is listed: they read while the
//     rest is listed (listing 10,000 entries takes 5-8 ms), and there is
//     one channel operation per batch, not per report.
//   - Reports are opened relative to their folder (openat: one path
//     component to resolve).
//   - Each worker reads into its own buffer, reused for every report and
//     grown as needed, in one read for nearly every report; report.Peek
//     looks at the start: a report whose ID the store knows (KnownID) is
//     not parsed, and an .ips whose header names another kind of
//     diagnostic is not parsed either.
//   - Results go back in batches.
func SweepWith(ctx context.Context, dirs []string, opt SweepOptions, out func(SweepResult)) (missing []string) {
	// The known paths listed: the rest of opt.Skip is missing.
	found := make(map[string]bool, len(opt.Skip))
	var odd []string // not regular files: refused, never read
	jobs := make(chan []sweepJob, 4)
	// Job batches handed back once read, for the listing to fill again.
	readJobs := make(chan []sweepJob, 8)
	batches := make(chan []SweepResult, 8)
	// Batches handed back once read, for the workers to fill again: a
	// sweep makes a handful of batch slices, not one per batch.
	spent := make(chan []SweepResult, 16)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sweepWorker(ctx, jobs, readJobs, batches, spent, opt.KnownID)
		}()
	}
	go func() { wg.Wait(); close(batches) }()
	// The listing feeds the workers as it goes: they read the first
	// reports while the rest of the folder is listed.
	listed := make(chan struct{})
	var folders []*os.File // open until every report in them is read
	defer func() {
		for _, f := range folders {
			f.Close()
		}
	}()
	go func() {
		defer close(listed)
		defer close(jobs)
		for _, d := range dirs {
			if ctx.Err() != nil {
				return
			}
			if f := listInto(ctx, d, opt, found, &odd, jobs, readJobs); f != nil {
				folders = append(folders, f)
			}
		}
	}()
	for b := range batches {
		for _, r := range b {
			out(r)
		}
		clear(b) // the next use holds no report of this one
		select {
		case spent <- b[:0]:
		default:
		}
	}
	<-listed // the workers stop early only when ctx is done
	for _, p := range odd {
		if ctx.Err() != nil {
			break
		}
		out(SweepResult{Path: p, Err: fmt.Errorf("%s: %w", p, report.ErrNotRegular)})
	}
	for p := range opt.Skip {
		if !found[p] {
			missing = append(missing, p)
		}
	}
	return missing
}

// sweepListBatch is how many folder entries are listed at a time (they go
// to the workers sweepJobBatch at a time).
const sweepListBatch = 256

// listInto lists one folder in batches and sends the reports to read to
// jobs, filling the batches the workers handed back (readJobs) where there
// are some; it records the known paths it finds (found) and the odd
// entries (not regular files). It returns the open folder (the reports are
// opened relative to it), or nil when it cannot be read.
func listInto(ctx context.Context, dir string, opt SweepOptions, found map[string]bool, odd *[]string, jobs chan<- []sweepJob, readJobs <-chan []sweepJob) *os.File {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), dir)
	var batch []sweepJob
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case jobs <- batch:
			batch = nil
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		entries, err := f.ReadDir(sweepListBatch)
		for _, e := range entries {
			j, ok := listEntry(dir, e, fd, opt, found, odd)
			if !ok {
				continue
			}
			if batch == nil {
				select {
				case batch = <-readJobs:
				default:
					batch = make([]sweepJob, 0, sweepJobBatch)
				}
			}
			if batch = append(batch, j); len(batch) == sweepJobBatch && !send() {
				return f
			}
		}
		if err != nil || len(entries) == 0 {
			send()
			return f // io.EOF at the end, or the folder cannot be read on
		}
	}
}

// sweepJobBatch is how many reports a worker takes at a time: few enough
// that when the last are read, one worker is not left with a long batch
// while the other has nothing to do (with 256, the end of a sweep of
// 10,000 reports waited about 2 ms for one worker on average).
const sweepJobBatch = 32

// listEntry records one folder entry and returns the job to read it, if it
// is a report to read.
func listEntry(dir string, e fs.DirEntry, dirfd int, opt SweepOptions, found map[string]bool, odd *[]string) (sweepJob, bool) {
	name := e.Name()
	typ := e.Type()
	if !report.IsReportName(name) || typ.IsDir() {
		return sweepJob{}, false
	}
	p := filepath.Join(dir, name)
	skip := opt.Skip[p]
	if skip {
		found[p] = true
	}
	if id, bad := opt.Bad[p]; bad {
		var st unix.Stat_t
		if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			delete(found, p) // gone since the listing
			return sweepJob{}, false
		}
		if id != BadID(st.Size, time.Unix(st.Mtim.Unix())) {
			skip = false // changed since it was reported: read it afresh
		}
	}
	if !skip && !typ.IsRegular() {
		// Symlinks, FIFOs and devices are never read: passed on as
		// ErrNotRegular, for the watcher to refuse them once.
		*odd = append(*odd, p)
	}
	if skip || !typ.IsRegular() {
		return sweepJob{}, false
	}
	return sweepJob{dirfd: dirfd, name: name, path: p}, true
}

// sweepWorker reads the batches of jobs until there are no more (or ctx is
// done), into one buffer reused for every report, and hands the results on
// in batches, taking a spent one to fill next where there is one; each job
// batch read goes back to the listing (readJobs) to be filled again.
func sweepWorker(ctx context.Context, jobs <-chan []sweepJob, readJobs chan<- []sweepJob, batches chan<- []SweepResult, spent <-chan []SweepResult, known func(string) bool) {
	buf := make([]byte, sweepBuf)
	batch := make([]SweepResult, 0, sweepBatch)
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case batches <- batch:
			select {
			case batch = <-spent:
			default:
				batch = make([]SweepResult, 0, sweepBatch)
			}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for js := range jobs {
		for i := range js {
			if ctx.Err() == nil {
				batch = append(batch, js[i].read(&buf, known))
			}
			if len(batch) == sweepBatch && !send() {
				break
			}
		}
		clear(js) // the next use holds no name of this one
		select {
		case readJobs <- js[:0]:
		default:
		}
	}
	send()
}

// sweepBuf is a worker's first read buffer: larger than nearly every
// report (they run to a few tens of kilobytes), so that one read(2) takes
// a report whole; it grows for a larger one.
const sweepBuf = 128 << 10

// sweepJob is one report to read, by its name in an open folder.
type sweepJob struct {
	dirfd int
	name  string
	path  string
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
	// No fstat here: the listing gave the type, and what may have been put
	// in the file's place since cannot do harm through this descriptor
	// (O_NOFOLLOW: not a symlink; O_NONBLOCK: a FIFO reads as empty; a
	// folder fails to read; never more than MaxReportSize bytes are read).
	// A short read is the end of a regular file; a full buffer means read
	// on, into a larger one.
	b := *buf
	n := 0
	for {
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
			res.Err = tooLarge(fd, j.path)
			return res
		}
		// Twice the size, but never past one byte more than a report may
		// have: a huge file is refused having cost at most that much
		// memory, as the stat the old listing made let it be refused
		// unread.
		nb := make([]byte, min(2*len(b), report.MaxReportSize+1))
		copy(nb, b[:n])
		b = nb
		*buf = b
	}
	if n > report.MaxReportSize {
		res.Err = tooLarge(fd, j.path)
		return res
	}
	id, verdict := report.Peek(b[:min(n, report.PeekSize)])
	if verdict != nil {
		res.Err = fmt.Errorf("%s: %w", j.path, verdict)
		return res
	}
	if id != "" && known != nil && known(id) {
		res.Report, res.Known = &report.Report{ID: id, Path: j.path}, true
		return res
	}
	r, err := report.Parse(b[:n])
	if r != nil {
		r.Path = j.path
	}
	if err != nil {
		err = report.WithPath(j.path, err)
	}
	res.Report, res.Err = r, err
	return res
}

// tooLarge is the error for a report past report.MaxReportSize, with its
// size as fstat gives it (this is rare: the fstat is made only then).
func tooLarge(fd int, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil && st.Size > report.MaxReportSize {
		return fmt.Errorf("%s is %d bytes (limit %d): %w", path, st.Size, report.MaxReportSize, report.ErrTooLarge)
	}
	return fmt.Errorf("%s grew past %d bytes: %w", path, report.MaxReportSize, report.ErrTooLarge)
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
