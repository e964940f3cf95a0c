package monitor

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
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
}

// NewAttributor returns an Attributor that reads this system's processes.
func NewAttributor() *Attributor {
	return &Attributor{read: newProcReader(), now: time.Now, stat: os.Stat}
}

// Enrich adds attribution to a report. It suits Config.Enrich.
func (a *Attributor) Enrich(r *Report) {
	if r == nil {
		return
	}
	crash := a.now()
	if t, err := time.Parse(time.RFC3339, r.Time); err == nil {
		crash = t
	}
	chk := lookupParent(a.read, r.ParentPID, r.ParentProcess, crash)
	a.apply(r, chk)
}

// apply fills the report from a checked parent (or its absence) and the
// facts the report itself gave (Classify), then words the fix.
func (a *Attributor) apply(r *Report, chk parentCheck) {
	p := chk.proc
	if p == nil {
		r.ParentCommand, r.ParentCwd, r.Group = "", "", ""
		r.Evidence = append(r.Evidence, chk.reason)
	} else {
		r.ParentCommand = clean(commandLine(p.Argv), 4096)
		r.ParentCwd = clean(p.Cwd, 1024)
		r.Group = groupKey(p)
		r.Evidence = append(r.Evidence, "live parent "+quote(clean(p.Comm, 64))+" started "+p.Start.UTC().Format(time.RFC3339)+" (before the crash)")
		if fw, _ := frameworkFromCommand(p.Comm, p.Argv); fw != nil {
			r.Framework = fw.Name
			r.Evidence = append(r.Evidence, "tool from the parent's command line: "+fw.Name)
		}
		if r.Venv == "" {
			if venv, project := venvOfCommand(p.Argv); venv != "" {
				r.Venv, r.Project = clean(venv, 1024), clean(project, 1024)
			}
		}
		if r.Project == "" && p.Cwd != "" {
			r.Project = clean(a.projectOf(p.Cwd), 1024)
		}
	}
	a.applyFix(r)
}

// applyFix sets Fix and FixSource for a death after fork and puts the
// tool's fix first in the advice. A crash that is not a fork death keeps
// its advice (the module at fault); a tool that execs is named as not the
// culprit.
func (a *Attributor) applyFix(r *Report) {
	fw, ok := FrameworkByName(r.Framework)
	if !ok {
		r.Fix, r.FixSource = "", ""
		return
	}
	if !r.ForkChild {
		r.Fix, r.FixSource = "", ""
		return
	}
	if r.Cause == CauseCFFork && !fw.NotAffected && fw.Name != "multiprocessing" {
		// The tools' documented workarounds mostly set the objc variable,
		// which does not help with CoreFoundation's check.
		r.Fix, r.FixSource = "", ""
		return
	}
	r.Fix, r.FixSource = fw.Fix, fw.FixSource
	if !strings.HasPrefix(r.Advice, fw.Fix) {
		r.Advice = fw.Fix + " " + r.Advice
	}
}

// projectMarkers are files that mark a project's root folder.
var projectMarkers = []string{"pyproject.toml", "setup.py", "setup.cfg", ".git", "requirements.txt", "manage.py", "Pipfile", "uv.lock", "poetry.lock"}

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
func (a *Attributor) EnrichCore(c *CoreFile) {
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
		c.Process = clean(child.Comm, 128)
	}
	parent, err := a.read(child.PPID)
	if err != nil || child.PPID <= 1 || parent.Start.After(child.Start) {
		return
	}
	c.ParentPID = parent.PID
	c.ParentProcess = clean(parent.Comm, 128)
	c.ParentCommand = clean(commandLine(parent.Argv), 4096)
	c.ParentCwd = clean(parent.Cwd, 1024)
	c.Group = groupKey(parent)
}

// GroupLabel is a short human name for a report's crash loop or program:
// the program and the project folder's name, e.g. "gunicorn (shop)",
// "celery worker (shop)", "ansible-playbook (infra)", "train (tool)" for a
// plain script. Without a command line it falls back to the tool, then the
// parent's and the process's names; the project falls back to the parent's
// working folder. "" when nothing is known.
func GroupLabel(r *Report) string {
	program := ProgramName(r)
	if program == "" {
		program = r.ParentProcess
	}
	if program == "" {
		program = r.Process
	}
	project := r.Project
	if project == "" {
		project = r.ParentCwd
	}
	if project != "" {
		name := path.Base(project)
		if program == "" {
			return name
		}
		return program + " (" + name + ")"
	}
	return program
}

// ProgramName names the program a crash belongs to from what attribution
// found: the live parent's command as the user would say it ("celery
// worker", "gunicorn", "train.py"), else the tool recognised in the
// report. "" when attribution found nothing, so that callers fall back to
// the report's own process name.
func ProgramName(r *Report) string {
	program := ""
	if fw, ok := FrameworkByName(r.Framework); ok {
		program = fw.Name
	}
	if r.ParentCommand != "" {
		_, prog := frameworkFromCommand(r.ParentProcess, strings.Fields(r.ParentCommand))
		if prog != "" {
			program = strings.Trim(prog, "'")
		}
	}
	return program
}
