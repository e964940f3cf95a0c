package forktrace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// The first-risky-fork warning (issue 30) judges each fork from a threaded
// parent once its outcome is known: objc's fork check kills a child of a
// threaded parent at its first +initialize before exec, so a fork followed
// by exec is safe and one that runs on without it is the risk. Whether a
// child execs is not known at the fork; a fork is judged when its child
// execs (the tracer marks the record), exits, or has run for RiskAfter,
// whichever comes first.

// RiskAfter is how long a child of a threaded parent may run without exec
// before its fork is judged risky.
const RiskAfter = time.Second

// Verdict is the judgement of one fork.
type Verdict int

const (
	// Pending: the child runs, has not exec'd, and is younger than RiskAfter.
	Pending Verdict = iota
	// Safe: the parent was not threaded, or the child exec'd (or called
	// posix_spawn, which issue 30 counts with exec).
	Safe
	// Risky: a fork without exec from a threaded parent.
	Risky
)

func (v Verdict) String() string {
	switch v {
	case Safe:
		return "safe"
	case Risky:
		return "risky"
	}
	return "pending"
}

// Judge says what the fork in r was at now. alive reports whether a pid
// still runs (nil: a process that has no end mark is taken to run). The
// reason is a short phrase for a log or a warning: "exited without exec",
// "ran 1s without exec", "exec'd", "parent not threaded".
func (r *Record) Judge(now time.Time, alive func(int) bool) (Verdict, string) {
	switch {
	case !r.Threaded:
		return Safe, "parent not threaded"
	case r.End == "exec":
		return Safe, "exec'd"
	case r.End == "spawn":
		return Safe, "called posix_spawn"
	case r.End == "exit":
		return Risky, "exited without exec"
	case alive != nil && !alive(r.PID):
		return Risky, "ended without exec"
	case now.Sub(r.When()) >= RiskAfter:
		return Risky, fmt.Sprintf("ran %v without exec", RiskAfter)
	}
	return Pending, ""
}

// RiskKey names what a warning is given once for: the program (its
// interpreter and argv[0]), the project (the parent's working folder) and
// the fork site (file:line, from the stack as ForkSite reads it).
func (r *Record) RiskKey() string {
	site := ""
	if s, ok := r.ForkSite(); ok {
		site = s.Frame.File + ":" + strconv.Itoa(s.Frame.Line)
	}
	return r.Executable + "\x00" + r.Argv0 + "\x00" + r.Cwd + "\x00" + site
}

// RiskyForks reads every record in the spool and returns the forks judged
// Risky at now (oldest fork first), and how long until the earliest Pending
// one is due for judgement (0 when none is pending), so that a caller arms
// one timer for it instead of polling. It is meant to run when the record
// file itself reports a write (see RingPath), then at that deadline, and
// never while nothing is pending: an idle spool costs nothing. alive is as
// for Judge (nil: a process without an end mark runs). A record that does
// not parse is left out; a missing spool is not an error.
func RiskyForks(spoolDir string, now time.Time, alive func(int) bool) (risky []*Record, next time.Duration, err error) {
	f, err := openRing(spoolDir, syscall.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	chunk := make([]byte, 256*SlotSize)
	for off := int64(0); off < RingSize; off += int64(len(chunk)) {
		n, err := f.ReadAt(chunk, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("read %s: %w", filepath.Base(f.Name()), err)
		}
		for i := 0; i+SlotSize <= n; i += SlotSize {
			slot := chunk[i : i+SlotSize]
			if slot[0] == 0 || !threadedHint(slot) {
				continue
			}
			rec, err := ParseRecord(slotRecord(slot))
			if err != nil || int64(rec.PID%Slots)*SlotSize != off+int64(i) {
				continue
			}
			if rec.End == "" {
				rec.End = endMark(slot, rec.PID)
			}
			switch v, _ := rec.Judge(now, alive); v {
			case Risky:
				if rec.End == "" && !rereadSafe(f, off+int64(i), rec, now, alive) {
					continue
				}
				risky = append(risky, rec)
			case Pending:
				if d := rec.When().Add(RiskAfter).Sub(now); next == 0 || d < next {
					next = max(d, time.Millisecond)
				}
			}
		}
		if n < len(chunk) {
			break
		}
	}
	sort.Slice(risky, func(i, j int) bool { return risky[i].Time < risky[j].Time })
	return risky, next, nil
}

// rereadSafe reads a slot's end mark again for a record judged risky
// without one, and says whether it is still risky. The slot was read
// before alive was asked: a child that marked its exec (or exit) and ended
// in between would otherwise be "ended without exec". Once the child has
// ended its mark is final, so this read is the last word.
func rereadSafe(f *os.File, slotOff int64, rec *Record, now time.Time, alive func(int) bool) bool {
	slot := make([]byte, SlotSize)
	if n, err := f.ReadAt(slot, slotOff); n != SlotSize && err != nil {
		return true
	}
	end := endMark(slot, rec.PID)
	if end == "" {
		return true
	}
	again := *rec
	again.End = end
	if v, _ := again.Judge(now, alive); v != Risky {
		return false
	}
	rec.End = end
	return true
}

// threadedHint skips the JSON decoding of the records of unthreaded
// parents, most of a busy spool: the tracer writes `"threaded":true`.
func threadedHint(slot []byte) bool {
	return bytes.Contains(slotRecord(slot), []byte(`"threaded":true`))
}
