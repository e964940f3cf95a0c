// Package attribute fills in who crashed: a report.Report plus the live
// process table in (/proc on Linux; kern.procargs2, kern.proc.pid and
// proc_pidinfo on macOS), the same Report out with the live parent's
// command line and folder, the project, the tool that forked and the
// crash-loop group. A parent is used only when it is the same process the
// report names (name, start time before the crash): a reused pid gets no
// attribution. It reads the process table only; it never runs a command.
package attribute

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forkwatch/forkwatch/monitor/project"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// Attributor fills in who crashed: the live parent's command line and
// working folder, the project, the tool that forked and its fix, and the
// crash-loop group. It runs on the detection path (Config.Enrich,
// Config.EnrichCore): the parent of a crash loop may exit seconds later.
// It reads the process table only (sysctl on macOS, /proc on Linux) and
// stats a few files to find a project folder; it never runs a command.
type Attributor struct {
	read procReader
	now  func() time.Time
	stat func(string) (os.FileInfo, error)
	// listDists lists the *.dist-info names in a venv's site-packages
	// (listDists in dists.go); tests may substitute their own.
	listDists func(venv string) ([]string, error)
	// scanProject reads the project's own configuration (project.ScanWith);
	// tests may substitute their own.
	scanProject func(dir string, uid int) (project.Result, error)
	uid         int // the user whose processes may be read: the one running Forkwatch
	// scans keeps each project's configuration hints for scanTTL: a crash
	// loop (37 workers of one project in a second) reads the project's
	// files once, not once per crash, on the detection path.
	scansMu sync.Mutex
	scans   map[string]projectScan
	// pre is the parent read Prefetch started, for the next Enrich.
	preMu sync.Mutex
	pre   *procRead
}

// procRead is one read of a process entry, started on its own goroutine;
// done is closed when p and err are set.
type procRead struct {
	pid  int
	done chan struct{}
	p    *liveProc
	err  error
	// taken is set by whichever starts the read first: the goroutine
	// it was handed to, or Enrich when that goroutine has not started by
	// then (on a machine whose cores sleep, a woken thread can start
	// later than the parse ends). Enrich then reads here, no later than it
	// would without a prefetch, and the goroutine does nothing.
	taken atomic.Bool
}

// take runs the read if nobody has started it, and reports whether it did.
func (pr *procRead) take(read procReader) bool {
	if !pr.taken.CompareAndSwap(false, true) {
		return false
	}
	pr.p, pr.err = read(pr.pid)
	close(pr.done)
	return true
}

// projectScan is one project's hints and when they were read.
type projectScan struct {
	hints []report.ProjectHint
	at    time.Time
}

const (
	// scanTTL is how long a project's configuration is taken as read: a
	// change to it is seen by the next crash after that.
	scanTTL = 10 * time.Second
	// maxScans bounds the cache; past it the cache starts afresh.
	maxScans = 64
)

// NewAttributor returns an Attributor that reads this system's processes.
func NewAttributor() *Attributor {
	return &Attributor{read: newProcReader(), now: time.Now, stat: os.Stat, listDists: listDists, scanProject: scanProject, uid: os.Getuid()}
}

// Prefetch starts reading the process entry of pid, the parent a new
// report names, on its own goroutine, for the Enrich that follows the
// report's parse: on the detection path the two then overlap (reading a
// process's stat, command line, status and links takes as long as parsing
// a large report). Enrich uses the read only for a report with that parent
// pid, and only once; it checks the process against the parsed report as
// it checks one it reads itself. A pid of 0 (a report whose start names no
// parent) drops a read started for an earlier report, as each new Prefetch
// replaces it.
func (a *Attributor) Prefetch(pid int) {
	if run := a.StartPrefetch(pid); run != nil {
		go run()
	}
}

// StartPrefetch is Prefetch for a caller that runs the read itself, on a
// goroutine it already has (it suits Config.Prefetch): the read is
// registered now, for Enrich to wait for, and run is the read, or nil for
// no read. Enrich waits for a registered read, so run must be called.
func (a *Attributor) StartPrefetch(pid int) (run func()) {
	var pr *procRead
	if pid > 1 {
		pr = &procRead{pid: pid, done: make(chan struct{})}
	}
	a.preMu.Lock()
	a.pre = pr
	a.preMu.Unlock()
	if pr == nil {
		return nil
	}
	return func() { pr.take(a.read) }
}

// reader is a.read, except that the read Prefetch started for pid is taken
// (once) instead of reading again.
func (a *Attributor) reader(pid int) procReader {
	a.preMu.Lock()
	pr := a.pre
	if pr != nil && pr.pid == pid {
		a.pre = nil
	}
	a.preMu.Unlock()
	if pr == nil || pr.pid != pid {
		return a.read
	}
	used := false
	return func(p int) (*liveProc, error) {
		if p != pid || used {
			return a.read(p)
		}
		used = true
		if !pr.take(a.read) {
			<-pr.done // started on its goroutine: wait for the rest
		}
		return pr.p, pr.err
	}
}

// Enrich adds attribution to a report. It suits Config.Enrich.
func (a *Attributor) Enrich(r *report.Report) {
	if r == nil {
		return
	}
	crash := a.now()
	if t, err := time.Parse(time.RFC3339, r.Time); err == nil {
		crash = t
	}
	chk := lookupParent(a.reader(r.ParentPID), r.ParentPID, r.ParentProcess, crash)
	if chk.proc != nil {
		if why := ownParent(chk.proc, a.uid, r.UserIDText()); why != "" {
			chk = parentCheck{reason: why}
		}
	}
	a.apply(r, chk)
}

// apply fills the report from a checked parent (or its absence) and the
// facts the report itself gave (Classify), then words the fix.
func (a *Attributor) apply(r *report.Report, chk parentCheck) {
	p := chk.proc
	if p == nil {
		r.ParentCommand, r.ParentCwd, r.Group = "", "", ""
		r.Evidence = append(r.Evidence, chk.reason)
	} else {
		r.ParentCommand = report.Clean(commandLine(p.Argv), 4096)
		r.ParentCwd = report.Clean(p.Cwd, 1024)
		r.Group = groupKey(p)
		r.Evidence = append(r.Evidence, "live parent "+report.Quote(report.Clean(p.Comm, 64))+" started "+p.Start.UTC().Format(time.RFC3339)+" (before the crash)")
		report.SetRuntimeFromParent(r, parentExe(p))
		if r.Venv == "" {
			if venv, project := report.VenvOfCommand(p.Argv); venv != "" {
				r.Venv, r.Project = report.Clean(venv, 1024), report.Clean(project, 1024)
			}
		}
		if r.Project == "" && p.Cwd != "" {
			r.Project = report.Clean(a.projectOf(p.Cwd), 1024)
		}
	}
	src := report.ToolSources{}
	if p != nil {
		src.ParentName, src.ParentArgv = p.Comm, p.Argv
		if _, prog := report.ToolFromCommand(p.Comm, p.Argv); report.IsHelperProgram(prog) {
			if g := a.grandparent(p); g != nil {
				src.GrandparentName, src.GrandparentArgv = g.Comm, g.Argv
				r.Evidence = append(r.Evidence, "grandparent "+report.Quote(report.Clean(commandLine(g.Argv), 256)))
			}
		}
	}
	if r.Venv != "" {
		if names, err := a.listDists(r.Venv); err == nil {
			src.Dists = report.ParseDists(names)
		}
	}
	if r.Project != "" && a.scanProject != nil {
		// The project's own configuration ("project config" evidence):
		// read only as this user, only files the user owns, never run.
		src.Project = a.projectHints(r.Project)
	}
	report.RecogniseTool(r, src)
}

// projectHints reads a project's configuration hints, at most once per
// scanTTL for the same folder. A scan that fails gives no hints and is not
// kept, so the next crash tries again.
func (a *Attributor) projectHints(dir string) []report.ProjectHint {
	now := a.now()
	a.scansMu.Lock()
	c, ok := a.scans[dir]
	a.scansMu.Unlock()
	if ok && now.Sub(c.at) >= 0 && now.Sub(c.at) < scanTTL {
		return c.hints
	}
	res, err := a.scanProject(dir, a.uid)
	if err != nil {
		return nil
	}
	hints := res.Hints()
	a.scansMu.Lock()
	if a.scans == nil || len(a.scans) >= maxScans {
		a.scans = map[string]projectScan{}
	}
	a.scans[dir] = projectScan{hints: hints, at: now}
	a.scansMu.Unlock()
	return hints
}

// scanProject reads a project's configuration with the default bounds.
func scanProject(dir string, uid int) (project.Result, error) {
	return project.ScanWith(dir, project.Options{UID: uid})
}

// grandparent reads the parent's own parent, when it is alive and older
// than the parent (else its pid was reused).
func (a *Attributor) grandparent(p *liveProc) *liveProc {
	if p.PPID <= 1 {
		return nil
	}
	g, err := a.read(p.PPID)
	if err != nil || (!g.Start.IsZero() && !p.Start.IsZero() && g.Start.After(p.Start)) {
		return nil
	}
	return g
}

// projectMarkers are files that mark a project's root folder: Python's,
// Ruby's Gemfile, PHP's composer.json, Perl's cpanfile.
var projectMarkers = []string{"pyproject.toml", "setup.py", "setup.cfg", ".git", "requirements.txt", "manage.py", "Pipfile", "uv.lock", "poetry.lock", "Gemfile", "composer.json", "cpanfile"}

// parentExe is what names the parent's runtime: its executable's path
// where the process table gives it (a script's #! interpreter), else the
// first word of its command line, else its short name.
func parentExe(p *liveProc) string {
	switch {
	case p.Exe != "":
		return p.Exe
	case len(p.Argv) > 0:
		return p.Argv[0]
	}
	return p.Comm
}

// projectOf walks up from dir to the first folder holding a project
// marker, stopping at the home folder's parent or after a few levels.
func (a *Attributor) projectOf(dir string) string {
	dir = filepath.Clean(dir)
	for i := 0; i < 8 && dir != "/" && dir != "." && dir != ""; i++ {
		if filepath.Base(filepath.Dir(dir)) == "Users" || dir == "/home" {
			return "" // a home folder is no project
		}
		for _, m := range projectMarkers {
			if _, err := a.stat(filepath.Join(dir, m)); err == nil {
				return dir
			}
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

// EnrichCore adds the dying process's parent to a core file. While the
// kernel writes the core the process is still in the table: its parent pid
// comes from there, and the parent is then read like a report's. It suits
// Config.EnrichCore.
func (a *Attributor) EnrichCore(c *report.CoreFile) {
	if c == nil || c.PID <= 0 {
		return
	}
	child, err := a.read(c.PID)
	if err != nil {
		return // gone already: no parent pid to go on
	}
	if c.Process != "" && !sameProcessName(c.Process, child) {
		return // the pid was reused
	}
	if c.Process == "" {
		c.Process = report.Clean(child.Comm, 128)
	}
	parent, err := a.read(child.PPID)
	if err != nil || child.PPID <= 1 || parent.Start.After(child.Start) {
		return
	}
	if ownParent(parent, a.uid, "") != "" {
		return // another user's process: not ours to describe
	}
	c.ParentPID = parent.PID
	c.ParentProcess = report.Clean(parent.Comm, 128)
	c.ParentCommand = report.Clean(commandLine(parent.Argv), 4096)
	c.ParentCwd = report.Clean(parent.Cwd, 1024)
	c.Group = groupKey(parent)
}
