package forktrace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The spool is one file, SPOOL/records, of Slots slots of SlotSize bytes:
// the record of the child with pid P goes into slot P % Slots. Forkwatch
// creates it at its full size with every block allocated, so the tracer
// never creates a file after fork (a directory update per fork cost 0.9 ms
// on a journaled disk) and the spool is bounded in files (one) and bytes
// (RingSize) by construction. The tracer's constants must match
// (TestTracerConstants).
//
// The tracer maps the file (MAP_SHARED) once per process and writes each
// record into the mapping (the parent, after os.fork; the child, after a
// fork made in C): no system call per fork. A write
// through a mapping into a hole of a sparse file needs a new block, and on a
// full disk it kills the writer with SIGBUS where write() would only fail;
// that is why the blocks are allocated here, and why the tracer falls back
// to write() for a file that is still sparse (made by an older Forkwatch).
// The file must never shrink while mapped (a write past its end is a SIGBUS
// too): a new layout takes a new name, never a truncation of this one.
const (
	RingName = "records"
	Slots    = 8192
	SlotSize = 4096
	RingSize = Slots * SlotSize
)

// DefaultGrace is how long a record outlives its process. A crash report
// appears seconds after the child dies (longer for a large process), and the
// record must still be there to be read.
const DefaultGrace = time.Minute

// RingPath is the record file in a spool folder. It is also the file to
// watch (the file itself: a folder watch sees no in-place write, on macOS
// as here) for the records that need reading at once: the tracer writes the
// first fork from a threaded process at each fork site, and that child's
// end mark, with a real write(), and every other record through its
// mapping, which raises no file event.
func RingPath(spoolDir string) string { return filepath.Join(spoolDir, RingName) }

// CreateRing makes the spool folder (0700) and its record file at full
// size with its blocks allocated, keeping the records of an existing one.
// A new file is filled under a temporary name and linked into place, so
// that no tracer maps a half-made one; an existing sparse file gets its
// holes allocated (or is rebuilt where the system cannot allocate in
// place). A record file that is not a regular file (a symlink, a FIFO) is
// an error: the tracers then write nothing.
func CreateRing(spoolDir string) error {
	if err := os.MkdirAll(spoolDir, 0o700); err != nil {
		return fmt.Errorf("create spool %s: %w", spoolDir, err)
	}
	p := RingPath(spoolDir)
	f, err := openRing(spoolDir, syscall.O_RDWR)
	if errors.Is(err, fs.ErrNotExist) {
		return newRing(spoolDir, nil)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	if fi.Size() < RingSize {
		// Only ever grown: a tracer may have it mapped.
		if err := f.Truncate(RingSize); err != nil {
			return fmt.Errorf("size %s: %w", p, err)
		}
	}
	if allocated(fi) >= RingSize {
		return nil
	}
	if err := allocate(f); err == nil {
		return nil
	}
	// No way to fill the holes in place: rebuild it with the records.
	data, err := io.ReadAll(io.NewSectionReader(f, 0, RingSize))
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	return newRing(spoolDir, data)
}

// allocated is how many bytes of the file have blocks.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return 0
}

// newRing writes a record file of RingSize bytes (data first, zeros after)
// under a temporary name and links it into place. A new one (data nil)
// never replaces a record file made meanwhile by another Forkwatch; a
// rebuilt one (the records of a sparse file) is renamed over it.
func newRing(spoolDir string, data []byte) error {
	p := RingPath(spoolDir)
	tmp, err := os.CreateTemp(spoolDir, ".records-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	chunk := make([]byte, 1<<20)
	for off := 0; off < RingSize; off += len(chunk) {
		n := copy(chunk, data[min(off, len(data)):])
		clear(chunk[n:])
		if _, err := tmp.Write(chunk); err != nil {
			return fmt.Errorf("fill %s: %w", p, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", p, err)
	}
	if data != nil {
		return os.Rename(tmp.Name(), p)
	}
	if err := os.Link(tmp.Name(), p); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", p, err)
	}
	return nil
}

// openRing opens the record file without following a symlink or blocking
// on a FIFO, and checks that it is a regular file.
func openRing(spoolDir string, flag int) (*os.File, error) {
	p := RingPath(spoolDir)
	fd, err := syscall.Open(p, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(p, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		if err == syscall.ELOOP {
			return nil, fmt.Errorf("%s is a symlink, not Forkwatch's record file", p)
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	return f, nil
}

// slotRecord cuts a slot at the record's end (the tracer ends each record
// with a newline; a shorter record leaves an older one's tail behind it).
func slotRecord(slot []byte) []byte {
	if i := bytes.IndexByte(slot, '\n'); i >= 0 {
		return slot[:i]
	}
	return slot
}

// readSlot reads the whole slot of pid (the record, then what follows it
// up to the end mark in the slot's last TrailerSize bytes).
func readSlot(f *os.File, pid int) ([]byte, error) {
	buf := make([]byte, SlotSize)
	n, err := f.ReadAt(buf, int64(pid%Slots)*SlotSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return buf[:n], nil
}

// TrailerSize is the end mark at the end of each slot: the pid in ten
// characters, then "exec ", "spawn", "exit " or blanks, then a newline. The
// child writes it, and may do so before its parent has written the record
// (the parent writes it after fork() returns), so it lives where no record
// reaches.
const TrailerSize = 16

// endMark reads the end mark of pid from a whole slot ("" when the
// trailer is another process's, or blank).
func endMark(slot []byte, pid int) string {
	if len(slot) != SlotSize {
		return ""
	}
	t := slot[SlotSize-TrailerSize:]
	if t[TrailerSize-1] != '\n' {
		return ""
	}
	p, err := strconv.Atoi(string(bytes.TrimRight(t[:10], " ")))
	if err != nil || p != pid {
		return ""
	}
	switch w := string(bytes.TrimSpace(t[10:15])); w {
	case "exec", "spawn", "exit":
		return w
	}
	return ""
}

// Spool is the spool folder with the state Sweep keeps: it remembers when
// it first saw each record's process gone, so one Spool should live as long
// as the app does. Its methods are safe for concurrent use.
type Spool struct {
	Dir   string
	Grace time.Duration

	mu   sync.Mutex
	gone map[int]time.Time // pid -> first Sweep that found it gone
	// What the last Sweep saw: when the record file has not changed since,
	// only the slots it kept are read again (an idle app stays idle).
	lastMod  time.Time
	lastKept []int64
	lastFull time.Time // the last Sweep that read every slot
	// alive reports whether a process exists; tests replace it.
	alive func(pid int) bool
}

// NewSpool returns the spool at dir.
func NewSpool(dir string) *Spool { return &Spool{Dir: dir, Grace: DefaultGrace} }

// fullEvery is how long a Sweep may read only the slots it kept while the
// record file's time stays the same.
const fullEvery = 10 * time.Minute

// SweepResult says what a Sweep did.
type SweepResult struct {
	Kept, Exited int
}

// slotHead matches the start of a record: the child's pid (written in the
// child) and the parent's pid and fork time.
var slotHead = regexp.MustCompile(`^\{"pid":([0-9]{1,10}) *,(?:"end":"[a-z ]{0,5}",)?(?:"wake":(?:true|false) *,)?"ppid":[0-9]+,"time":([0-9.]+)`)

// Sweep clears the records of children that are gone: a record goes once
// its process has been seen gone for Grace and the fork is older than
// Grace. A slot holding something that is not a record is cleared too. A
// missing spool is not an error.
func (s *Spool) Sweep(now time.Time) (SweepResult, error) {
	var res SweepResult
	f, err := openRing(s.Dir, syscall.O_RDWR)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	defer f.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone == nil {
		s.gone = map[int]time.Time{}
	}
	alive := s.alive
	if alive == nil {
		alive = pidAlive
	}
	grace := s.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	fi, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	seen := map[int]bool{}
	var errs []error
	var kept []int64
	// visit judges one slot at offset at.
	visit := func(at int64, slot []byte) {
		if slot[0] == 0 {
			return
		}
		rec := slotRecord(slot)
		m := slotHead.FindSubmatch(rec)
		pid := 0
		if m != nil {
			pid, _ = strconv.Atoi(string(m[1]))
		}
		if m == nil || int64(pid%Slots)*SlotSize != at {
			// Not a record, or not in its pid's slot: clear it.
			if err := clearSlot(f, at, rec); err != nil {
				errs = append(errs, err)
			}
			return
		}
		seen[pid] = true
		if alive(pid) {
			delete(s.gone, pid)
			res.Kept++
			kept = append(kept, at)
			return
		}
		first, ok := s.gone[pid]
		if !ok {
			first = now
			s.gone[pid] = now
		}
		sec, _ := strconv.ParseFloat(string(m[2]), 64)
		forked := time.Unix(int64(sec), 0)
		if now.Sub(first) >= grace && now.Sub(forked) >= grace {
			if err := clearSlot(f, at, rec); err != nil {
				errs = append(errs, err)
				kept = append(kept, at)
				return
			}
			delete(s.gone, pid)
			res.Exited++
			return
		}
		res.Kept++
		kept = append(kept, at)
	}
	// Writes through the tracer's mapping need not change the file's time
	// (macOS updates it when pages are written back, if at all), so an
	// unchanged time is trusted for at most fullEvery.
	if fi.ModTime().Equal(s.lastMod) && !s.lastMod.IsZero() && now.Sub(s.lastFull) < fullEvery {
		slot := make([]byte, SlotSize)
		for _, at := range s.lastKept {
			n, err := f.ReadAt(slot, at)
			if err != nil && !errors.Is(err, io.EOF) {
				return res, fmt.Errorf("read %s: %w", f.Name(), err)
			}
			if n == SlotSize {
				visit(at, slot)
			}
		}
	} else {
		chunk := make([]byte, 256*SlotSize)
		for off := int64(0); off < RingSize; off += int64(len(chunk)) {
			n, err := f.ReadAt(chunk, off)
			if err != nil && !errors.Is(err, io.EOF) {
				return res, fmt.Errorf("read %s: %w", f.Name(), err)
			}
			for i := 0; i+SlotSize <= n; i += SlotSize {
				visit(off+int64(i), chunk[i:i+SlotSize])
			}
			if n < len(chunk) {
				break
			}
		}
		s.lastFull = now
	}
	// The time from before the read: a child's write during it (or our own
	// clearing) makes the next Sweep read everything again.
	s.lastMod = fi.ModTime()
	s.lastKept = kept
	for pid := range s.gone {
		if !seen[pid] {
			delete(s.gone, pid)
		}
	}
	return res, errors.Join(errs...)
}

// clearSlot zeroes a record unless a child rewrote the slot since it was
// read (a new child whose pid shares the slot).
func clearSlot(f *os.File, at int64, rec []byte) error {
	cur := make([]byte, len(rec))
	if _, err := f.ReadAt(cur, at); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if !bytes.Equal(cur, rec) {
		return nil
	}
	if _, err := f.WriteAt(make([]byte, len(rec)+1), at); err != nil {
		return fmt.Errorf("clear a record in %s: %w", f.Name(), err)
	}
	return nil
}

// pidAlive says whether a process with this pid exists (EPERM: it exists
// but is someone else's).
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// readRegular reads a regular file of at most limit bytes without blocking
// on a FIFO and without following a symlink in its last component.
func readRegular(path string, limit int64) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	}
	if err != nil {
		if err == syscall.ELOOP {
			return nil, fmt.Errorf("%s is a symlink", path)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than expected (%d)", path, fi.Size(), limit)
	}
	buf := make([]byte, fi.Size()+1)
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil || m == 0 {
			break
		}
	}
	if int64(n) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes", path, limit)
	}
	return buf[:n], nil
}
