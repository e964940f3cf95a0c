// Package forktrace is Forkwatch's opt-in fork tracer: a .pth file and one
// small module installed into an interpreter's or a venv's site-packages
// (Enable, Disable, Status), the spool of records they write (Lookup,
// Sweep), and the enricher that turns a record into a crash report's
// fork_site, fork_stack and fork_via.
//
// A macOS crash report has no Python frames: it shows PyOS_AfterFork_Child
// or performForkChildInitialize, never the line that forked. Python can say
// it itself: os.register_at_fork runs our code at every fork, in the parent
// before fork() (where the forking thread's stack is one frame walk away),
// and the record goes under the child's pid, the pid the crash report names
// (written by the parent after os.fork returns it, or by the child after a
// fork made in C).
//
// The package imports monitor; monitor does not import it (the app passes
// Enricher in monitor.Config.Enrich).
package forktrace

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// MaxStack is how many frames a Report's ForkStack keeps.
const MaxStack = 24

// ErrNoRecord means the spool holds no usable record for the pid.
var ErrNoRecord = errors.New("no fork record")

// Record is what the tracer wrote for one child (see tracer/forkwatch_forktrace.py).
type Record struct {
	PID int `json:"pid"` // the child
	// End is the child's end mark: "exec" (it called an exec* function),
	// "spawn" (posix_spawn), "exit", or "" while it runs (or when it died
	// of a signal, or ended some way the tracer does not see, such as the
	// exec in C after a subprocess preexec_fn). The tracer writes it in
	// the slot's trailer (TrailerSize), Lookup and RiskyForks put it here.
	End string `json:"end,omitempty"`
	// Wake says the record was written with a real write(): the first fork
	// from a threaded process at its fork site, which raises a file event
	// on the record file (so does that child's end mark).
	Wake       bool    `json:"wake,omitempty"`
	PPID       int     `json:"ppid"` // the process that forked
	Time       float64 `json:"time"` // Unix seconds, taken in the parent just before fork()
	Format     int     `json:"format"`
	Python     string  `json:"python"` // "3.11.7"
	Executable string  `json:"executable"`
	Prefix     string  `json:"prefix"`
	BasePrefix string  `json:"base_prefix"`
	Stdlib     string  `json:"stdlib"` // the folder holding os.py
	Site       string  `json:"site"`   // the site-packages folder holding the tracer
	Threads    int     `json:"threads"`
	// Threaded says whether the parent was threaded at the fork as the
	// platform's fork check sees it, and ThreadedHow how the tracer knew:
	// "pthread_is_threaded_np" (macOS: true once the process ever started
	// a thread, what objc's check reads), "threading.active_count" or
	// "_thread._count" (live Python threads, elsewhere).
	Threaded    bool   `json:"threaded"`
	ThreadedHow string `json:"threaded_how,omitempty"`
	// ThreadNames are the parent's Python threads, gathered only for the
	// fork a warning is about (Wake).
	ThreadNames []string `json:"thread_names,omitempty"`
	Thread      string   `json:"thread"` // the forking thread's name
	Argv0       string   `json:"argv0"`
	Cwd         string   `json:"cwd"`
	Truncated   bool     `json:"truncated"` // the stack had more than the tracer keeps
	// Stack is the forking thread's Python stack, innermost first (the
	// caller of os.fork at index 0), like a crash report's backtrace.
	Stack []report.ForkFrame `json:"stack"`
}

// When is the time of the fork.
func (r *Record) When() time.Time {
	sec := int64(r.Time)
	return time.Unix(sec, int64((r.Time-float64(sec))*1e9))
}

// Lookup reads the record of the child with this pid from the spool
// folder's record file. It returns an error wrapping ErrNoRecord when there
// is none (an empty slot, or the slot now holds another child's record),
// and a clear error for a record file that is not one (a symlink, a FIFO):
// the spool is written by processes we do not control.
func Lookup(spoolDir string, pid int) (*Record, error) {
	if pid <= 0 {
		return nil, &noRecord{pid: pid}
	}
	f, err := openRing(spoolDir, syscall.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &noRecord{pid: pid, noFile: true}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	slot, err := readSlot(f, pid)
	if err != nil {
		return nil, err
	}
	data := slotRecord(slot)
	if len(data) == 0 || data[0] == 0 {
		return nil, &noRecord{pid: pid}
	}
	rec, err := ParseRecord(data)
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	if rec.PID != pid {
		return nil, &noRecord{pid: pid, other: rec.PID}
	}
	if rec.End == "" {
		rec.End = endMark(slot, pid)
	}
	return rec, nil
}

// noRecord is Lookup's error when the spool has no record for the pid: no
// record file (no venv traced), an empty slot, or the slot now another
// child's. Its text is made when it is read. Enricher, on the detection
// path, drops it, and the fmt.Errorf it replaced took about a third of
// Enricher's time for each crash with no record (cold, in a profile of 150
// drops of a report).
type noRecord struct {
	pid, other int // other: the pid whose record the slot holds
	noFile     bool
}

func (e *noRecord) Error() string {
	switch {
	case e.noFile:
		return fmt.Sprintf("pid %d: no record file: %v", e.pid, ErrNoRecord)
	case e.other != 0:
		return fmt.Sprintf("pid %d: the slot holds pid %d's record: %v", e.pid, e.other, ErrNoRecord)
	}
	return fmt.Sprintf("pid %d: %v", e.pid, ErrNoRecord)
}

func (e *noRecord) Unwrap() error { return ErrNoRecord }

// ParseRecord decodes one spool record. A record cut short (the child died
// inside its single write, or the disk filled) is ErrNoRecord.
func ParseRecord(data []byte) (*Record, error) {
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("malformed record (%v): %w", err, ErrNoRecord)
	}
	if rec.PID <= 0 {
		return nil, fmt.Errorf("record without a pid: %w", ErrNoRecord)
	}
	rec.clean()
	return &rec, nil
}

// clean passes every string of a record through report.Clean, as report
// fields are: the spool is written by the user's Python processes, and a
// thread name, argv[0] or a file name may hold escape sequences or bidi
// controls meant for the terminal, a notification or the menu.
func (r *Record) clean() {
	for _, s := range []*string{&r.Python, &r.Executable, &r.Prefix, &r.BasePrefix, &r.Stdlib, &r.Site, &r.Cwd} {
		*s = report.Clean(*s, 1024)
	}
	r.End = report.Clean(strings.TrimSpace(r.End), 8)
	r.ThreadedHow = report.Clean(r.ThreadedHow, 64)
	if len(r.ThreadNames) > 64 {
		r.ThreadNames = r.ThreadNames[:64]
	}
	for i := range r.ThreadNames {
		r.ThreadNames[i] = report.Clean(r.ThreadNames[i], 64)
	}
	r.Thread = report.Clean(r.Thread, 64)
	r.Argv0 = report.Clean(r.Argv0, 1024)
	for i := range r.Stack {
		r.Stack[i].File = report.Clean(r.Stack[i].File, 1024)
		r.Stack[i].Function = report.Clean(r.Stack[i].Function, 256)
	}
}

// Site is where a record says the fork happened.
type Site struct {
	// Frame is the innermost frame of the program's own code (the line that
	// called into multiprocessing, or os.fork itself); when every frame is a
	// library's (a celery worker started from its command line), the
	// outermost frame of the library that forked.
	Frame report.ForkFrame
	// Via names the library the program forked through: the module of the
	// outermost library frame between Frame and fork(), a known forking
	// module where the chain has one ("multiprocessing.pool",
	// "gunicorn.arbiter"), or "os.fork from user code".
	Via string
	// User says whether Frame is the program's own code.
	User bool
}

// ViaUserCode is Site.Via when the program called os.fork itself.
const ViaUserCode = "os.fork from user code"

// knownVia are the modules that name a forking tool better than the
// outermost library frame would (multiprocessing.Pool(...) enters through
// multiprocessing.context, which only delegates). First match from the
// outside in wins.
var knownVia = []string{
	"concurrent.futures.process",
	"multiprocessing.pool",
	"gunicorn.arbiter",
	"celery.concurrency.prefork",
	"billiard.pool",
	"rq.worker",
	"uvicorn.supervisors.multiprocess",
	"ansible.executor.process.worker",
	"ansible.executor.task_queue_manager",
	"airflow.task.task_runner.standard_task_runner",
	"xdist.workermanage",
	"daemon.daemon",
	"pty",
	"multiprocessing.process",
	"multiprocessing.popen_fork",
}

// delegating modules are skipped when naming the way in: they only pass
// the call on.
var delegating = map[string]bool{"multiprocessing.context": true, "runpy": true, "threading": true}

// ForkSite finds the fork site and the way in from a record's stack.
func (r *Record) ForkSite() (Site, bool) {
	if len(r.Stack) == 0 {
		return Site{}, false
	}
	user := -1
	for i, f := range r.Stack {
		if !r.isLibrary(f.File) {
			user = i
			break
		}
	}
	lib := r.Stack
	if user >= 0 {
		lib = r.Stack[:user]
	}
	if len(lib) == 0 {
		return Site{Frame: r.Stack[user], Via: ViaUserCode, User: true}, true
	}
	mods := make([]string, len(lib))
	for i, f := range lib {
		mods[i] = r.module(f.File)
	}
	via, at := "", -1
	for _, k := range knownVia {
		for i := len(mods) - 1; i >= 0; i-- {
			if mods[i] == k {
				via, at = k, i
				break
			}
		}
		if via != "" {
			break
		}
	}
	if via == "" {
		for i := len(mods) - 1; i >= 0; i-- {
			if mods[i] != "" && !delegating[mods[i]] {
				via, at = mods[i], i
				break
			}
		}
	}
	if via == "" {
		via, at = mods[len(mods)-1], len(mods)-1
	}
	// Without the program's own frame, the site is the innermost frame of
	// the module that forked (gunicorn's spawn_worker, not its run loop).
	for i := range mods {
		if mods[i] == mods[at] {
			at = i
			break
		}
	}
	if via == "os" || via == "" {
		via = "os.fork"
	}
	if user >= 0 {
		return Site{Frame: r.Stack[user], Via: via, User: true}, true
	}
	return Site{Frame: lib[at], Via: via}, true
}

// pythonLib matches a standard library folder: .../lib/python3.11/,
// .../lib/python3.13t/, ...\Lib\ on no platform we serve.
var pythonLib = regexp.MustCompile(`/lib/(pypy|python)[0-9]+(\.[0-9]+)?t?/`)

// isLibrary says whether a frame's file is not the program's own code: the
// standard library, an installed package, a console-script wrapper in the
// environment's bin folder, or a frozen module.
func (r *Record) isLibrary(file string) bool {
	if file == "" || strings.HasPrefix(file, "<") {
		return true
	}
	if strings.Contains(file, "/site-packages/") || strings.Contains(file, "/dist-packages/") {
		return true
	}
	for _, dir := range []string{r.Stdlib, r.Site} {
		if dir != "" && strings.HasPrefix(file, strings.TrimSuffix(dir, "/")+"/") {
			return true
		}
	}
	for _, pre := range []string{r.Prefix, r.BasePrefix} {
		if pre != "" && path.Dir(file) == path.Join(pre, "bin") {
			return true
		}
	}
	return pythonLib.MatchString(file)
}

// module turns a library file into its dotted module name:
// /usr/lib/python3.11/multiprocessing/pool.py is multiprocessing.pool.
func (r *Record) module(file string) string {
	if strings.HasPrefix(file, "<frozen ") {
		return strings.TrimSuffix(strings.TrimPrefix(file, "<frozen "), ">")
	}
	rel := ""
	for _, marker := range []string{"/site-packages/", "/dist-packages/"} {
		if i := strings.LastIndex(file, marker); i >= 0 {
			rel = file[i+len(marker):]
			break
		}
	}
	if rel == "" && r.Stdlib != "" && strings.HasPrefix(file, strings.TrimSuffix(r.Stdlib, "/")+"/") {
		rel = file[len(strings.TrimSuffix(r.Stdlib, "/"))+1:]
	}
	if rel == "" {
		if loc := pythonLib.FindStringIndex(file); loc != nil {
			rel = file[loc[1]:]
		}
	}
	if rel == "" {
		return ""
	}
	rel = strings.TrimSuffix(rel, ".py")
	rel = strings.TrimSuffix(rel, "/__init__")
	return strings.ReplaceAll(rel, "/", ".")
}

// Describe is the sentence for a crash: "forked at app/tasks.py:42 in
// run_jobs() via multiprocessing.pool". Files under the parent's working
// folder are shown relative to it, a library's file by its place in its
// package (gunicorn/arbiter.py).
func (r *Record) Describe(s Site) string {
	return sentence(s.Frame, s.Via, r.Cwd, s.User)
}

// Sentence is Describe for a report that Apply enriched (for notifications
// and the menu); "" when the report has no fork site.
func Sentence(r *report.Report) string {
	if r == nil || r.ForkSite == nil {
		return ""
	}
	user := r.ForkVia == ViaUserCode || !isLibraryPath(r.ForkSite.File)
	return sentence(*r.ForkSite, r.ForkVia, r.ParentCwd, user)
}

func sentence(f report.ForkFrame, via, cwd string, user bool) string {
	file := f.File
	if !user {
		for _, marker := range []string{"/site-packages/", "/dist-packages/"} {
			if i := strings.LastIndex(file, marker); i >= 0 {
				file = file[i+len(marker):]
				break
			}
		}
	} else if cwd != "" && filepath.IsAbs(file) {
		if rel, err := filepath.Rel(cwd, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
	}
	return fmt.Sprintf("forked at %s:%d in %s() via %s", file, f.Line, f.Function, via)
}

// isLibraryPath is isLibrary without a record's folders.
func isLibraryPath(file string) bool { return (&Record{}).isLibrary(file) }

// Matches says whether a record can belong to the crash in r: pids are
// reused (macOS wraps at 99,999), so a record left from an earlier process
// with the same pid must not name a fork site. It takes a record with a
// parent above 1 and a fork time, and a report with a parent and a time:
// without them nothing tells an old record from this crash's, and a record
// of zeros (pid 0's parent, time 0) would match any crash of its pid. A
// record whose parent is not the report's parent, or that was written
// after the crash, does not match. A report whose parent is 1 (launchd
// adopted the child after its parent exited) is matched on the time alone.
func (rec *Record) Matches(r *report.Report) bool {
	if rec.PID != r.PID || rec.PID <= 0 || rec.PPID <= 1 || !(rec.Time > 0) || r.ParentPID <= 0 {
		return false
	}
	if r.ParentPID > 1 && rec.PPID != r.ParentPID {
		return false
	}
	t, err := time.Parse(time.RFC3339, r.Time)
	if err != nil {
		return false
	}
	// Crash report times have whole seconds; the record has microseconds.
	return !rec.When().After(t.Add(2 * time.Second))
}

// Apply sets the fork-tracing fields of r from rec and says so in the
// evidence. It returns false, leaving r alone, when the record has no
// stack.
func Apply(r *report.Report, rec *Record) bool {
	site, ok := rec.ForkSite()
	if !ok {
		return false
	}
	f := site.Frame
	r.ForkSite = &f
	n := min(len(rec.Stack), MaxStack)
	r.ForkStack = append([]report.ForkFrame(nil), rec.Stack[:n]...)
	r.ForkVia = site.Via
	ev := rec.Describe(site)
	if rec.Threads > 1 {
		ev += fmt.Sprintf(" (%d threads in the parent", rec.Threads)
		if rec.Thread != "" && rec.Thread != "MainThread" {
			ev += ", forked from thread " + report.Clean(rec.Thread, 64)
		}
		ev += ")"
	}
	r.Evidence = append(r.Evidence, "fork tracer: "+ev)
	if r.Framework == "" {
		if fw := report.FrameworkFromVia(site.Via); fw != "" {
			r.Framework = fw
			if row, ok := report.FrameworkByName(fw); ok && r.Fix == "" {
				r.Fix, r.FixSource = row.Fix, row.FixSource
			}
		}
	}
	return true
}

// Enricher returns the hook for monitor.Config.Enrich: when a crash's pid
// has a matching record in spoolDir, the report gains fork_site, fork_stack
// and fork_via and an evidence line naming the line that forked. It reads
// one small file per crash and never fails the crash: a missing or bad
// record leaves the report as it was.
func Enricher(spoolDir string) func(*report.Report) {
	return func(r *report.Report) {
		if r == nil || r.PID <= 0 || r.ForkSite != nil {
			return
		}
		rec, err := Lookup(spoolDir, r.PID)
		if err != nil || !rec.Matches(r) {
			return
		}
		Apply(r, rec)
	}
}
