package attribute

import (
	"github.com/forkwatch/forkwatch/monitor/report"

	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// liveProc is what the process table says about one running process.
type liveProc struct {
	PID   int
	PPID  int
	Comm  string    // the kernel's short name (p_comm: 16 bytes on macOS, 15 on Linux)
	Argv  []string  // the command line; nil when it could not be read
	Cwd   string    // the working folder; "" when it could not be read
	Exe   string    // the executable's path (a script's interpreter); "" when unreadable
	Start time.Time // when the process started
	// UID is the process's real user id (/proc/PID/status "Uid:" on
	// Linux, kinfo_proc's p_ruid on macOS); -1 when it could not be read.
	UID int
}

// errNoProc means the process is not (or no longer) in the process table.
var errNoProc = errors.New("no such process")

// procReader reads one live process. The platform files provide
// readProc; tests may substitute their own.
type procReader func(pid int) (*liveProc, error)

// commLen is the longest short name either kernel keeps: MAXCOMLEN is 16
// on macOS (sys/param.h), TASK_COMM_LEN 16 with the NUL on Linux (15).
const commLen = 15

// sameProcessName says whether a live process's short name or command is
// the name a crash report gave its parent. Kernels cut names to 15 or 16
// bytes; a Python parent may be "Python" in the report (the framework
// build's executable) and "python3.12" or "Python" live; either side may
// carry the full name where the other has the short one.
func sameProcessName(reported string, p *liveProc) bool {
	reported = strings.TrimSpace(reported)
	if reported == "" {
		return false
	}
	names := []string{p.Comm}
	if len(p.Argv) > 0 {
		names = append(names, filepath.Base(p.Argv[0]))
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		if strings.EqualFold(n, reported) {
			return true
		}
		a, b := strings.ToLower(n), strings.ToLower(reported)
		if len(a) >= commLen && len(b) >= commLen && a[:commLen] == b[:commLen] {
			return true // both cut (or one cut) at the kernel's limit
		}
		if report.IsPythonName(n) && report.IsPythonName(reported) {
			return true
		}
	}
	return false
}

// parentCheck is the outcome of looking for a report's live parent.
type parentCheck struct {
	proc   *liveProc
	reason string // why there is no attribution ("parent exited", ...)
}

// lookupParent finds the live parent a report names and makes sure it is
// the same process: alive, with the reported name, started before the
// crash. A pid reused by another program gets no attribution.
func lookupParent(read procReader, pid int, name string, crash time.Time) parentCheck {
	if pid <= 1 {
		return parentCheck{reason: "no parent to look up (parent pid " + fmt.Sprint(pid) + ")"}
	}
	if strings.HasPrefix(name, "Exited process") || strings.EqualFold(name, "launchd") {
		return parentCheck{reason: "parent exited (the report says " + report.Quote(name) + ")"}
	}
	p, err := read(pid)
	if err != nil {
		if errors.Is(err, errNoProc) {
			return parentCheck{reason: "parent exited"}
		}
		return parentCheck{reason: "parent exited or unreadable: " + err.Error()}
	}
	if !sameProcessName(name, p) {
		return parentCheck{reason: fmt.Sprintf("parent exited: pid %d is now %s, not %s", pid, report.Quote(p.Comm), report.Quote(name))}
	}
	// Report times have whole seconds; a second of slack keeps a parent
	// that started in the same second as its child's crash.
	if !crash.IsZero() && !p.Start.IsZero() && p.Start.After(crash.Add(time.Second)) {
		return parentCheck{reason: fmt.Sprintf("parent exited: pid %d was started at %s, after the crash", pid, p.Start.UTC().Format(time.RFC3339))}
	}
	return parentCheck{proc: p}
}

// ownParent says why a live parent must not be used although it is the
// process the report names: it belongs to another user than the one
// running Forkwatch, or than the report's own user. Another user's command
// line, folder and venv are theirs: shown, they would let a crash report
// make Forkwatch list (and later run) another user's files. "" means ours.
func ownParent(p *liveProc, uid int, reportUser string) string {
	switch {
	case p.UID < 0:
		return "parent belongs to another user (its owner could not be read)"
	case p.UID != uid:
		return fmt.Sprintf("parent belongs to another user (uid %d, Forkwatch runs as uid %d)", p.UID, uid)
	case reportUser != "" && reportUser != strconv.Itoa(p.UID):
		return fmt.Sprintf("parent belongs to another user (uid %d, the report's user is %s)", p.UID, report.Quote(reportUser))
	}
	return ""
}

// groupKey names a crash loop: crashes whose live parent had the same pid
// and start time belong together, across restarts of Forkwatch.
func groupKey(p *liveProc) string {
	if p == nil || p.Start.IsZero() {
		return ""
	}
	// "parent:%d:%d" without fmt, whose first use after a quiet spell is
	// slow on the detection path (TestGroupKeyAsSprintf).
	return "parent:" + strconv.Itoa(p.PID) + ":" + strconv.FormatInt(p.Start.Unix(), 10)
}

// commandLine joins argv for display, quoting words with spaces or quotes
// so that the line can be read back unambiguously.
func commandLine(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`") {
			b.WriteByte('\'')
			b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
			b.WriteByte('\'')
			continue
		}
		b.WriteString(a)
	}
	return b.String()
}

// parseProcExe reads the executable path from macOS's kern.procargs2 (the
// string after argc; see parseProcArgs). For a script run through its #!
// line it is the interpreter, which is what names the runtime.
func parseProcExe(raw []byte) string {
	if len(raw) < 4 {
		return ""
	}
	rest := raw[4:]
	if i := bytes.IndexByte(rest, 0); i >= 0 {
		return string(rest[:i])
	}
	return ""
}

// parseProcArgs reads macOS's kern.procargs2: argc (int32, host order),
// the executable path, NUL padding, then argc NUL-terminated arguments (the
// environment follows and is not read). The layout is the one ps(1) reads
// (apple-oss-distributions/adv_cmds ps/print.c, getproclline) and Chromium's
// crashpad util/posix/process_util_mac.cc documents. It lives here, not in
// parent_darwin.go, so that it is tested everywhere.
func parseProcArgs(raw []byte) []string {
	if len(raw) < 4 {
		return nil
	}
	argc := int(binary.LittleEndian.Uint32(raw[:4]))
	rest := raw[4:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return nil
	}
	rest = rest[i:]
	for len(rest) > 0 && rest[0] == 0 {
		rest = rest[1:]
	}
	var argv []string
	for len(argv) < argc && len(rest) > 0 {
		j := bytes.IndexByte(rest, 0)
		if j < 0 {
			argv = append(argv, string(rest))
			break
		}
		argv = append(argv, string(rest[:j]))
		rest = rest[j+1:]
	}
	return argv
}
