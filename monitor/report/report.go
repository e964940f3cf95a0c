// Package report turns the bytes of a macOS crash report into a Report: the
// .ips and legacy .crash parsers, the classification (killed by the
// Objective-C fork check, CoreFoundation's, another death after fork, or a
// plain crash), and what the report's own paths say (interpreter, venv,
// project, the tool that forked, the module at fault).
//
// It is pure, like encoding/json: no goroutines, no timers, no reading of
// other processes, no watching and no SQL, so that it is tested on real
// reports from public bug trackers (testdata/) and fuzzed. Who crashed is
// filled in afterwards by monitor/attribute from the live process table;
// when a file is ready to read is decided by monitor.
package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"path/filepath"
	"strings"
	"sync"

	"github.com/forkwatch/forkwatch/internal/regular"
)

// MaxReportSize caps how much of a report is read. Real crash reports run to a
// few MiB (a .ips with 900 threads and its image list is about 4 MiB); a larger
// file in a DiagnosticReports folder is not something ReportCrash wrote.
const MaxReportSize = 16 << 20

// Errors that callers tell apart with errors.Is.
var (
	// ErrIncomplete means the data looks like the start of a crash report but
	// stops early: a file still being written, or an excerpt. Try again later.
	ErrIncomplete = errors.New("incomplete crash report")
	// ErrNotCrashReport means the data is something else: another kind of
	// diagnostic (hang, jetsam, resource report), text, or binary noise.
	ErrNotCrashReport = errors.New("not a crash report")
	// ErrOtherDiagnostic means a well-formed report of another kind that
	// shares the DiagnosticReports folders (jetsam, hang, stackshot, ...):
	// a watcher skips it quietly.
	ErrOtherDiagnostic = errors.New("another kind of diagnostic report")
	// ErrNotRegular means the path is not a regular file (FIFO, device,
	// directory, or a symlink to one of those).
	ErrNotRegular = regular.ErrNotRegular
	// ErrTooLarge means the file is larger than MaxReportSize.
	ErrTooLarge = regular.ErrTooLarge
)

// Format names the two layouts macOS writes.
const (
	FormatIPS   = "ips"   // macOS 12+: JSON header line, JSON body
	FormatCrash = "crash" // macOS 10.13-11: plain text
)

// Cause is the one-word summary shown in menus and notifications.
const (
	CauseForkSafety = "fork-safety" // killed by the Objective-C +initialize check
	CauseForkChild  = "fork-child"  // died in a fork child before exec, another way
	CauseCrash      = "crash"       // any other crash
	// CauseCFFork: a fork child stopped by CoreFoundation's own fork check
	// (__THE_PROCESS_HAS_FORKED_AND_YOU_CANNOT_USE_THIS_COREFOUNDATION_FUNCTIONALITY___YOU_MUST_EXEC__).
	// OBJC_DISABLE_INITIALIZE_FORK_SAFETY does not help there.
	CauseCFFork = "corefoundation-fork"
)

// Report is what Forkwatch knows about one crash. Field names in JSON are the
// contract of `forkwatch inspect --json` and `forkwatch watch --json`.
type Report struct {
	// ID identifies the crash, not the file: a report moved into Retired/
	// keeps its ID. The incident id where the report has one.
	ID                 string `json:"id"`
	Path               string `json:"path,omitempty"`
	Format             string `json:"format,omitempty"`
	Process            string `json:"process,omitempty"`
	PID                int    `json:"pid,omitempty"`
	ParentProcess      string `json:"parent_process,omitempty"`
	ParentPID          int    `json:"parent_pid,omitempty"`
	ResponsibleProcess string `json:"responsible_process,omitempty"`
	ExePath            string `json:"exe_path,omitempty"`
	BundleID           string `json:"bundle_id,omitempty"`
	Time               string `json:"time,omitempty"`
	OSVersion          string `json:"os_version,omitempty"`
	Exception          string `json:"exception,omitempty"`
	Signal             string `json:"signal,omitempty"`
	Termination        string `json:"termination,omitempty"`
	Python             bool   `json:"python"`
	// Runtime is the language runtime that crashed: python, ruby, php,
	// perl, node or other (runtime.go). Empty in reports recorded before
	// the field existed.
	Runtime        string   `json:"runtime"`
	ForkChild      bool     `json:"fork_child"`
	ObjCForkSafety bool     `json:"objc_fork_safety"`
	ObjCClass      string   `json:"objc_class,omitempty"`
	Trigger        string   `json:"trigger,omitempty"`
	Cause          string   `json:"cause"`
	Advice         string   `json:"advice,omitempty"`
	Evidence       []string `json:"evidence"`
	// Partial is set when the report was cut short (an excerpt, or a file
	// still being written) and the fields come from what could be read.
	Partial bool `json:"partial,omitempty"`

	// Attribution: who forked, in which project, with which tool. Filled on
	// the detection path (the parent may exit seconds later); empty when
	// unknown, never guessed.
	ParentCommand string `json:"parent_command,omitempty"` // the live parent's command line
	ParentCwd     string `json:"parent_cwd,omitempty"`     // the live parent's working folder
	Interpreter   string `json:"interpreter,omitempty"`    // origin: homebrew, python.org, pyenv, uv, conda, clt, system, venv, ...
	PythonVersion string `json:"python_version,omitempty"`
	Project       string `json:"project,omitempty"`   // the project folder
	Venv          string `json:"venv,omitempty"`      // the virtual environment folder
	Framework     string `json:"framework,omitempty"` // the tool that forked: multiprocessing, gunicorn, celery, ...
	// FrameworkEvidence says how Framework was recognised, so that a user
	// can judge it: tracer, parent command, grandparent command, report
	// paths or venv contents (the Evidence* constants).
	FrameworkEvidence string `json:"framework_evidence,omitempty"`
	Fix               string `json:"fix,omitempty"`
	FixSource         string `json:"fix_source,omitempty"` // where the fix is documented (docs/fixes.md)
	Module            string `json:"module,omitempty"`     // for crashes that are not fork deaths: the package at fault
	ModulePath        string `json:"module_path,omitempty"`
	// Group names a crash loop: crashes whose live parent had the same pid
	// and start time share it.
	Group string `json:"group,omitempty"`

	// Fork tracing (an opt-in tracer in the interpreter recorded the fork).
	ForkSite      *ForkSite   `json:"fork_site,omitempty"`
	ForkStack     []ForkFrame `json:"fork_stack,omitempty"`
	ForkVia       string      `json:"fork_via,omitempty"`
	ChildLastCall *ForkFrame  `json:"child_last_call,omitempty"`

	// Probe is set for the crash of a child that `forkwatch doctor --probe`
	// started on purpose: a test result, never an alert.
	Probe bool `json:"probe,omitempty"`

	// rubyLacksForkFix is set when the crashed Ruby's version, from the
	// report's executable and images, is known and older than Ruby's own
	// fork fix (RubyLacksForkFix): it gets "upgrade Ruby" (ApplyFix). A
	// bool, not the version: what ApplyFix needs, in a byte beside Probe.
	rubyLacksForkFix bool

	// HasUserID says whether the report gives the crashed process's user
	// (a number, not "omitted"), and UserID is that user. Attribution uses
	// a live parent only when it belongs to this user too. Neither is part
	// of the JSON output. A number past uid_t's range is kept as
	// 4294967295, (uid_t)-1, which no process has. (A uint32 beside the
	// bools, not a string: see TestReportSize.)
	HasUserID bool   `json:"-"`
	UserID    uint32 `json:"-"`
}

// UserIDText is the report's user as the report gives it ("501"), or ""
// when it gives none.
func (r *Report) UserIDText() string {
	if !r.HasUserID {
		return ""
	}
	return strconv.FormatUint(uint64(r.UserID), 10)
}

// uidField is a user number as Report.UserID keeps it.
func uidField(n int64) uint32 {
	if n > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}

// ForkSite is the line of Python that called fork().
type ForkSite = ForkFrame

// ForkFrame is one Python frame: file, line, function.
type ForkFrame struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Function string `json:"function"`
}

// facts is what the format parsers extract; Classify turns it into a Report.
type facts struct {
	format       string
	process      string
	pid          int
	parent       string
	parentPID    int
	userID       int64 // the report's user, when hasUserID
	hasUserID    bool
	responsible  string
	exePath      string
	bundleID     string
	time         string
	osVersion    string
	exception    string
	signal       string
	termNS       string // termination namespace: OBJC, SIGNAL, ...
	termCode     string // as written: "1", "0x1"
	asi          []string
	crashed      []frame // the crashed thread's frames, innermost first
	incident     string
	processGuess bool // process name inferred from the backtrace
	partial      bool
	appVersion   string   // the executable's version (bundle or "Version:" line)
	images       []string // paths of loaded images outside the system folders
	evidence     []string // where Classify gathers the Report's evidence (Parse: the scratch's)
	joined       []byte   // where Classify joins the asi lines (Parse: the scratch's)
}

type frame struct {
	image  string
	symbol string
	path   string // the image's path, where the report lists it
}

// Parse reads a crash report in either format. It returns ErrNotCrashReport
// for anything else. For a report that stops early it returns the Report
// built from what was there (Partial set) together with an error wrapping
// ErrIncomplete, or a nil Report when too little was there.
func Parse(data []byte) (*Report, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("empty file: %w", ErrIncomplete)
	}
	if len(data) > MaxReportSize {
		return nil, ErrTooLarge
	}
	var (
		f   *facts
		err error
	)
	sc := scratchPool.Get().(*scratch)
	defer sc.release()
	// A paste from the crash dialog or Console holds the readable report
	// (whole or from partway through), then the .ips after a "Full
	// Report" marker line. The JSON is the whole report; the readable part
	// is read only when the JSON holds no crash. A report that starts with
	// the .ips's brace is no paste (the readable part comes first), so it
	// is not searched for the marker; a text report is searched as its
	// lines are read (parseCrashOrMarker stops at the marker), not in a pass of its
	// own over every byte.
	var js []byte
	switch {
	case startsWithBrace(data):
		f, err = parseIPS(data, sc)
	case looksLikeIPS(data):
		// An excerpt of an .ips body (its first line a member line).
		if js = fullReportJSON(data); js == nil {
			f, err = parseIPS(data, sc)
		}
	default:
		f, js, err = parseCrashOrMarker(data, sc)
	}
	if js != nil {
		if f, err = parseIPS(js, sc); f == nil {
			f, err = parseCrash(data, sc)
		}
	}
	if f == nil {
		return nil, err
	}
	f.evidence, f.joined = sc.evidence[:0], sc.joined
	r := Classify(f)
	sc.joined = f.joined
	// The lines were gathered in the scratch's slice (room for the most any
	// report gives); the Report gets a copy of just their number, not a
	// slice with room to spare for each report.
	sc.evidence = r.Evidence[:0]
	r.Evidence = ownLines(r.Evidence)
	r.ID = reportID(f, r, data)
	if err == nil && f.partial {
		err = errStopsEarly
	}
	return r, err
}

// ownLines returns a copy of lines with no room to spare, never nil (the
// JSON has "evidence": [] for none).
func ownLines(lines []string) []string {
	if len(lines) == 0 {
		return []string{}
	}
	return append(make([]string, 0, len(lines)), lines...)
}

// errStopsEarly is Parse's error for a report that parsed but stops early:
// made once, not for each of the excerpts a sweep meets.
var errStopsEarly = fmt.Errorf("report stops early: %w", ErrIncomplete)

// ReadFile reads and parses the crash report at path. It reads only regular
// files (after following symlinks), never blocks on a FIFO, and reads at most
// MaxReportSize bytes. Path is set on the returned Report.
func ReadFile(path string) (*Report, error) {
	return ReadFileThen(path, nil)
}

// ReadFileThen is ReadFile, calling early (when not nil) with the start of
// the report (at most PeekSize bytes) once it is read and before it is
// parsed: work that Peek or PeekParent can start runs meanwhile. early must
// not keep the slice.
func ReadFileThen(path string, early func(prefix []byte)) (*Report, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	data, err := regular.ReadInto(path, MaxReportSize, bp)
	if err != nil {
		return nil, err
	}
	if early != nil {
		early(data[:min(len(data), PeekSize)])
	}
	// Nothing in a Report refers to data (every string is copied by clean),
	// so the buffer goes back to the pool when Parse returns.
	r, err := Parse(data)
	if r != nil {
		r.Path = path
	}
	if err != nil {
		return r, WithPath(path, err)
	}
	return r, nil
}

// bufPool holds read buffers for ReadFile: a sweep reads thousands of
// reports, and reusing buffers keeps the garbage collector out of it.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// IsReportName says whether a file name in a DiagnosticReports folder may be a
// crash report: .ips or .crash, and not one of the other diagnostics that
// share the folders (JetsamEvent-*.ips, *.diag, .hang, .spin, ...).
func IsReportName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	ext := filepath.Ext(name)
	if ext != ".ips" && ext != ".crash" {
		return false
	}
	for _, p := range []string{"JetsamEvent-", "ExcUserFault_", "LowBatteryLog-", "SiriSearchFeedback-", "stacks-", "shutdown_stall", "panic-", "Sandbox-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// reportID names a crash independently of the file that holds it.
func reportID(f *facts, r *Report, data []byte) string {
	if f.incident != "" {
		return "incident:" + f.incident
	}
	if r.PID != 0 && r.Time != "" {
		return r.Process + ":" + strconv.Itoa(r.PID) + ":" + r.Time // as %s:%d:%s, without fmt
	}
	sum := sha256.Sum256(data[:min(len(data), 1<<16)])
	return "sha256:" + hex.EncodeToString(sum[:12])
}

// fullReportJSON finds the .ips JSON that follows the "Full Report" marker
// of a report pasted from the crash dialog or Console:
//
//	-------------------------------------
//	Translated Report (Full Report Below)
//	-------------------------------------
//	Process: ...   (the readable report)
//	-----------
//	Full Report
//	-----------
//	{"app_name":...,"bug_type":"309",...}
//	{ ...the body... }
//
// It returns the text from the JSON's first brace, or nil when there is no
// marker line ("Full Report" alone on its line) followed, after dashes and
// blank lines, by a line that starts with '{'. Whatever precedes the
// marker does not matter.
func fullReportJSON(data []byte) []byte {
	rest := data
	for {
		i := indexFullReport(rest)
		if i < 0 {
			return nil
		}
		lineStart := bytes.LastIndexByte(rest[:i], '\n') + 1
		lineEnd := bytes.IndexByte(rest[i:], '\n')
		if lineEnd < 0 {
			return nil
		}
		lineEnd += i
		after := rest[lineEnd+1:]
		if string(bytes.TrimSpace(rest[lineStart:lineEnd])) == "Full Report" {
			if js := jsonAfterRules(after); js != nil {
				return js
			}
		}
		rest = rest[lineEnd:]
	}
}

// indexFullReport is bytes.Index(b, "Full Report"), found by its "R": every
// report is searched for the marker, and "R" is the rarest of its letters
// in crash reports (one byte in about 470 of the real ones, "F" one in 180),
// so the vector search for it stops far less often than bytes.Index's
// search for "F" does.
func indexFullReport(b []byte) int {
	const marker, at = "Full Report", len("Full ")
	for i := at; i < len(b); {
		j := bytes.IndexByte(b[i:], 'R')
		if j < 0 {
			return -1
		}
		i += j
		if bytes.HasPrefix(b[i-at:], []byte(marker)) {
			return i - at
		}
		i++
	}
	return -1
}

// jsonAfterRules skips blank lines and rules of dashes and returns the text
// from there when it starts with '{', else nil.
func jsonAfterRules(b []byte) []byte {
	for len(b) > 0 {
		line, next, _ := bytes.Cut(b, []byte("\n"))
		t := bytes.TrimSpace(line)
		if len(bytes.Trim(t, "-")) == 0 {
			b = next
			continue
		}
		if t[0] == '{' {
			return bytes.TrimLeft(b, " \t\r")
		}
		return nil
	}
	return nil
}

// WithPath returns err with path before its message ("path: message"),
// as fmt.Errorf("%s: %w", path, err) does, but formatted only when the
// message is asked for: a sweep wraps an error for each excerpt and file
// still being written it meets, and most are never printed.
func WithPath(path string, err error) error { return &pathErr{path: path, err: err} }

type pathErr struct {
	path string
	err  error
}

func (e *pathErr) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathErr) Unwrap() error { return e.err }
