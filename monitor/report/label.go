package report

import (
	"path"
	"strings"
)

// ApplyFix sets Fix and FixSource for a death after fork and puts the
// tool's fix first in the advice. A crash that is not a fork death keeps
// its advice (the module at fault); a tool that execs is named as not the
// culprit.
func ApplyFix(r *Report) {
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

// ToolFromCommand recognises the tool that forked from a live process's
// short name and command line, and names the program as the user would say
// it ("celery worker", "gunicorn", "train.py"). Tool is "" when no known
// tool matches.
func ToolFromCommand(name string, argv []string) (tool, program string) {
	fw, program := frameworkFromCommand(name, argv)
	if fw != nil {
		tool = fw.Name
	}
	return tool, program
}

// VenvOfCommand finds the virtual environment and its project from a
// command line whose interpreter or script lives in a venv's bin folder.
func VenvOfCommand(argv []string) (venv, project string) { return venvOfCommand(argv) }

// IsPythonName says whether a process name is a Python interpreter's
// ("Python", "python3.12", "python3.13t").
func IsPythonName(name string) bool { return rePythonName.MatchString(name) }

// Quote puts a name from a report in quotes for evidence lines.
func Quote(s string) string { return quote(s) }
