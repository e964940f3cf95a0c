package report

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// Dists are the distributions installed in a venv, from its
// site-packages' *.dist-info folder names: normalised name → version.
type Dists map[string]string

// ParseDists reads *.dist-info folder names ("rq-2.3.1.dist-info",
// "apache_airflow-3.1.0.dist-info"); other names are skipped.
func ParseDists(names []string) Dists {
	d := Dists{}
	for _, n := range names {
		base, ok := strings.CutSuffix(n, ".dist-info")
		if !ok {
			continue
		}
		name, version, ok := strings.Cut(base, "-")
		if !ok || name == "" || version == "" {
			continue
		}
		d[normDist(name)] = version
	}
	return d
}

// version returns the installed version of a distribution, or "".
func (d Dists) version(name string) string { return d[normDist(name)] }

// ToolSources is what attribution found about who forked, beyond the
// report: the live parent's and grandparent's short names and command
// lines, and the distributions installed in the venv the report or the
// parent points at (nil when not read).
type ToolSources struct {
	ParentName, GrandparentName string
	ParentArgv, GrandparentArgv []string
	Dists                       Dists
	// Project is what the project's own configuration says (monitor/project
	// reads it from files the user owns; nil when not read).
	Project []ProjectHint
}

// ProjectHint is one tool a project's own configuration sets up: the tool
// (a Framework name), how (Mode: "plugin :solid_queue", "--forked in
// addopts"), whether that way forks without exec, and where it was read.
// monitor/project produces them; they live here so that the crash path and
// `forkwatch check` share one table without this package importing that
// one.
type ProjectHint struct {
	Tool    string
	Mode    string
	Forks   bool
	File    string
	Line    int
	Caveats []string
}

// Where is "config/puma.rb:42" style: the file's base folder and name, and
// the line.
func (h ProjectHint) Where() string {
	f := path.Base(path.Dir(h.File)) + "/" + path.Base(h.File)
	if path.Dir(h.File) == "." || path.Dir(h.File) == "/" {
		f = path.Base(h.File)
	}
	if h.Line > 0 {
		return f + ":" + strconv.Itoa(h.Line)
	}
	return f
}

// projectHintFor finds the project's word on the parent's tool: a pytest
// whose addopts hold --forked, a huey consumer whose Django settings ask
// for process workers, a locust whose locust.conf sets processes, a Puma
// whose config/puma.rb loads Solid Queue's plugin (which forks the
// supervisor) without cluster workers of its own. nil when the project
// says nothing more than the command line did.
func projectHintFor(parentTool, parentProg string, hints []ProjectHint) *ProjectHint {
	find := func(tool string, forks bool) *ProjectHint {
		for i := range hints {
			if hints[i].Tool == tool && hints[i].Forks == forks {
				return &hints[i]
			}
		}
		return nil
	}
	switch {
	case parentTool == "" && parentProg == "pytest":
		return find("pytest-forked", true)
	case parentTool == "" && (parentProg == "huey_consumer" || parentProg == "manage.py run_huey"):
		return find("huey", true)
	case parentTool == "" && parentProg == "locust":
		return find("locust", true)
	case parentTool == "puma":
		if find("puma", true) != nil {
			return nil // cluster workers fork too: the command line's puma stands
		}
		return find("solid_queue", true)
	}
	return nil
}

// RecogniseTool names the tool that forked and how it was recognised, then
// words the fix (ApplyFix). Evidence, strongest first: the fork tracer's
// fork_via; a row that names the code that crashed (the pg gem's GSSAPI
// lookup); the parent's command line or title; the grandparent's, when the
// parent is a spawn/exec helper (Airflow 3's LocalExecutor workers,
// xdist's execnet workers); the report's own paths; and, alone, the venv's
// contents when exactly one forking tool is installed there. The venv's
// contents also support (or not) what the command line said.
func RecogniseTool(r *Report, s ToolSources) {
	set := func(name, how string) {
		r.Framework, r.FrameworkEvidence = name, how
	}
	specific := false
	if fw, ok := FrameworkByName(r.Framework); ok && fw.Specific && r.FrameworkEvidence == EvidenceReport {
		specific = true
	}
	parentTool, parentProg := "", ""
	if len(s.ParentArgv) > 0 || s.ParentName != "" {
		parentTool, parentProg = ToolFromCommand(s.ParentName, s.ParentArgv)
	}
	hint := projectHintFor(parentTool, parentProg, s.Project)
	switch via := FrameworkFromVia(r.ForkVia); {
	case via != "" && !specific:
		set(via, EvidenceTracer)
		r.Evidence = append(r.Evidence, "tool from the fork tracer: "+via+" (fork_via "+r.ForkVia+")")
	case specific:
		r.Evidence = append(r.Evidence, "kept "+r.Framework+": the crashed thread runs its code")
	case hint != nil:
		set(hint.Tool, EvidenceProject)
		r.Evidence = append(r.Evidence, "tool from the project's configuration: "+hint.Tool+" ("+Clean(hint.Where(), 256)+": "+Clean(hint.Mode, 256)+"), with the parent's command line "+orUnknown(parentProg))
	case parentTool != "":
		set(parentTool, EvidenceParent)
		r.Evidence = append(r.Evidence, "tool from the parent's command line: "+parentTool)
	case IsHelperProgram(parentProg) && (len(s.GrandparentArgv) > 0 || s.GrandparentName != ""):
		if tool, _ := ToolFromCommand(s.GrandparentName, s.GrandparentArgv); tool != "" {
			set(tool, EvidenceGrandparent)
			r.Evidence = append(r.Evidence, "the parent is a "+parentProg+"; tool from the grandparent's command line: "+tool)
		} else if r.Framework == "multiprocessing" && parentProg == ProgramSpawnWorker {
			// A spawn worker's own fork child: the worker is not a
			// fork-context pool.
			set("", "")
		}
	case r.Framework == "multiprocessing" && r.FrameworkEvidence == EvidenceReport && s.Dists.version("multiprocess") != "":
		// Both load multiprocessing's extension; multiprocess forks by
		// default on macOS where multiprocessing spawns (its context.py).
		set("multiprocess", EvidenceVenv)
		r.Evidence = append(r.Evidence, "the venv has multiprocess installed, which forks by default on macOS where multiprocessing spawns: its pool is the likelier one")
	case r.Framework != "":
		if r.FrameworkEvidence == "" {
			r.FrameworkEvidence = EvidenceReport
		}
	default:
		if fw := toolFromDists(s.Dists); fw != "" {
			set(fw, EvidenceVenv)
			r.Evidence = append(r.Evidence, "tool from the venv's contents: "+fw+" is the only forking tool installed there")
		}
	}
	if fw, ok := FrameworkByName(r.Framework); ok && s.Dists != nil && r.FrameworkEvidence != EvidenceVenv {
		for _, d := range fw.Dists {
			if v := s.Dists.version(d); v != "" {
				r.Evidence = append(r.Evidence, "the venv has "+normDist(d)+" "+Clean(v, 32)+" installed, as the "+r.FrameworkEvidence+" implies")
				break
			}
		}
	}
	applyFix(r, s.Dists)
	if hint != nil && r.Framework == hint.Tool && r.Fix != "" && len(hint.Caveats) > 0 {
		old := r.Fix
		for _, c := range hint.Caveats {
			r.Fix += " " + Clean(c, 512)
		}
		if rest, ok := strings.CutPrefix(r.Advice, old); ok {
			r.Advice = r.Fix + rest
		}
	}
}

// toolFromDists returns the only forking tool whose distribution is
// installed, or "" when none or several are.
func toolFromDists(d Dists) string {
	if len(d) == 0 {
		return ""
	}
	found := map[string]bool{}
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		switch n {
		case "tornado", "pytest-forked", "pytest-xdist", "distributed":
			continue // installed as dependencies, or not a forker on its own
		}
		if fw := frameworkByDist(n); fw != nil && fw.Runtime == RuntimePython {
			found[fw.Name] = true
		}
	}
	if len(found) != 1 {
		return ""
	}
	for name := range found {
		return name
	}
	return ""
}

// ApplyFix sets Fix and FixSource for a death after fork and puts the
// tool's fix first in the advice. A crash that is not a fork death keeps
// its advice (the module at fault); a tool that execs is named as not the
// culprit.
func ApplyFix(r *Report) { applyFix(r, nil) }

// applyFix is ApplyFix with the venv's distributions, which add version
// notes (rq without SpawnWorker, celery with billiard 4.3.0). A tool's fix
// is given only to its own runtime (no Python advice for a Ruby process);
// for CoreFoundation's check only the tool's exec/spawn fix (CFFix) is
// given, never the variable.
func applyFix(r *Report, dists Dists) {
	clear := func() { r.Fix, r.FixSource = "", "" }
	if !r.ForkChild {
		clear()
		return
	}
	fw, ok := FrameworkByName(r.Framework)
	rubyOld := r.Runtime == RuntimeRuby && r.rubyLacksForkFix
	if !ok {
		if !rubyOld && r.Runtime == RuntimeRuby && IsMacOS150(r.OSVersion) && r.Cause != CauseCFFork {
			// No tool named and a Ruby with its own fix: on macOS 15.0
			// the OS itself still needs updating.
			r.Fix, r.FixSource = rubyMacOS150Note, rubyMacOS150Source
			if !strings.HasPrefix(r.Advice, r.Fix) {
				r.Advice = r.Fix + " " + r.Advice
			}
			return
		}
		if !rubyOld || r.Cause == CauseCFFork {
			clear()
			return
		}
		fw, _ = FrameworkByName("ruby")
	}
	rt := r.Runtime
	if rt == "" || rt == RuntimeOther {
		rt = runtimeOfCommand(r.ParentCommand)
	}
	if rt != "" && fw.Runtime != rt {
		clear()
		r.Evidence = append(r.Evidence, "no "+fw.Name+" fix: it is for "+fw.Runtime+", and the crashed process is "+rt)
		return
	}
	fix := fw.Fix
	if r.Cause == CauseCFFork {
		fix = fw.CFFix
		if fix == "" {
			// The tool's documented workarounds set the objc variable,
			// which does not help with CoreFoundation's check.
			clear()
			return
		}
	}
	fix += versionNotes(fw.Name, dists)
	if rubyOld && fw.Name != "ruby" && r.Cause != CauseCFFork {
		fix += " " + rubyUpgradeNote
	}
	if r.Runtime == RuntimeRuby && IsMacOS150(r.OSVersion) && r.Cause != CauseCFFork {
		fix += " " + rubyMacOS150Note
	}
	r.Fix, r.FixSource = fix, fw.FixSource
	if !strings.HasPrefix(r.Advice, fix) {
		r.Advice = fix + " " + r.Advice
	}
}

// versionNotes adds what the venv's installed versions change about a fix.
func versionNotes(tool string, d Dists) string {
	if d == nil {
		return ""
	}
	switch tool {
	case "rq", "rq-pool":
		if v := d.version("rq"); v != "" {
			if has, ok := RQHasSpawnWorker(v); ok && !has {
				return " This venv has rq " + Clean(v, 32) + ", older than 2.2, which has no SpawnWorker: upgrade rq first (or use rq.worker.SimpleWorker meanwhile, without per-job isolation)."
			}
		}
	case "celery":
		b, c := d.version("billiard"), d.version("celery")
		if b != "" && c != "" {
			spawns, ok1 := BilliardSpawns(b)
			cOld, ok2 := versionBefore(c, "5.6.4")
			if ok1 && spawns && ok2 && cOld {
				return " This venv has billiard " + Clean(b, 32) + " with celery " + Clean(c, 32) + ": that prefork pool fails every task on macOS (celery#10683); use -P solo or -P threads."
			}
		}
	}
	return ""
}

// runtimeOfCommand names the runtime of a command line's interpreter.
func runtimeOfCommand(cmd string) string {
	words := splitCommandLine(cmd)
	if len(words) == 0 {
		return ""
	}
	first := path.Base(words[0])
	switch {
	case isPythonExe(first):
		return RuntimePython
	case strings.HasPrefix(first, "ruby"):
		return RuntimeRuby
	case strings.HasPrefix(first, "perl"):
		return RuntimePerl
	case strings.HasPrefix(first, "php"):
		return RuntimePHP
	}
	return ""
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
// report. A spawn helper (a LocalExecutor worker) is named by the tool
// its grandparent ran. "" when attribution found nothing, so that callers
// fall back to the report's own process name.
func ProgramName(r *Report) string {
	program := ""
	if fw, ok := FrameworkByName(r.Framework); ok {
		program = fw.Name
	}
	if r.ParentCommand != "" {
		_, prog := frameworkFromCommand(r.ParentProcess, splitCommandLine(r.ParentCommand))
		if prog != "" && !(IsHelperProgram(prog) && program != "") {
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
func IsPythonName(name string) bool {
	// rePythonName starts with "python" in any case, and no other letter
	// folds to one of its letters: a name that does not start so is not
	// run through the regexp (most names a report gives are not Python's).
	return len(name) >= 6 && strings.EqualFold(name[:6], "python") && rePythonName.MatchString(name)
}

// Quote puts a name from a report in quotes for evidence lines.
func Quote(s string) string { return quote(s) }

// splitCommandLine reads back a command line as monitor/attribute shows
// it (words with spaces or quotes in single quotes, a quote inside as
// '\”): the inverse of its commandLine.
func splitCommandLine(s string) []string {
	var argv []string
	var b strings.Builder
	quoted, word, escaped := false, false, false
	for _, r := range s {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\' && !quoted:
			escaped, word = true, true
		case r == '\'':
			quoted, word = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if word {
				argv = append(argv, b.String())
			}
			b.Reset()
			word = false
		default:
			b.WriteRune(r)
			word = true
		}
	}
	if word {
		argv = append(argv, b.String())
	}
	return argv
}
