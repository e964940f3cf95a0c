package report

import (
	"slices"
	"strings"
	"sync"
)

// Framework is a tool that forks (or is wrongly suspected of forking), how
// Forkwatch recognises it, and the fix in that tool's own terms. Every Fix
// comes from a page that says what the row claims (FixSource) whose kind
// SourceKind names; docs/fixes.md holds the same rows and TestFixesDoc
// keeps the two in step. Rows live in tools_python.go, tools_ruby.go and
// tools_other.go, one file per ecosystem.
type Framework struct {
	Name    string // Report.Framework
	Runtime string // the interpreter it runs in: python, ruby, php, perl
	// Recognised says, for docs/fixes.md, what Forkwatch reads to name it.
	Recognised string
	Fix        string
	FixSource  string
	// SourceKind is what FixSource is: SourceDocs (the tool's own
	// documentation or code), SourceMaintainer (a maintainer's comment in
	// its tracker) or SourceUserReport (reporters, not maintainers).
	SourceKind string
	// Checked is the day the source was last read against the row.
	Checked string
	// CFFix is the fix offered for CoreFoundation's own fork check
	// (CauseCFFork), which OBJC_DISABLE_INITIALIZE_FORK_SAFETY does not
	// silence: the tool's exec/spawn (or no-fork) option. "" when the
	// tool has none; then only the general advice (exec after fork) stands.
	CFFix string
	// NotAffected: the tool starts its processes with exec (or spawn), so
	// it is not the one that forked; Fix then says where to look instead.
	NotAffected bool
	// Dists are the Python distributions (or gems) that install the tool,
	// as *.dist-info names spell them, for venv-contents evidence.
	Dists []string
	// Specific: the row names the code that crashed in the child (the pg
	// gem's GSSAPI lookup), which says more than the server that forked.
	Specific bool
}

// Source kinds (Framework.SourceKind).
const (
	SourceDocs       = "docs"
	SourceMaintainer = "maintainer"
	SourceUserReport = "user report"
)

// Evidence kinds (Report.FrameworkEvidence): how the tool was recognised,
// strongest first.
const (
	EvidenceTracer      = "tracer"              // the fork tracer's fork_via
	EvidenceParent      = "parent command"      // the live parent's command line or title
	EvidenceGrandparent = "grandparent command" // the parent is a spawn/exec helper; its parent named the tool
	EvidenceReport      = "report paths"        // the report's executable, images or crashed frames
	EvidenceVenv        = "venv contents"       // the only forking tool installed in the venv
	// EvidenceProject: the project's own configuration (gunicorn.conf.py,
	// Procfile, pytest's addopts, config/puma.rb, config/queue.yml...), read
	// by monitor/project, with the file and line.
	EvidenceProject = "project config"
)

// checked is the day every row's source was last read.
const checked = "2026-12-05"

// Frameworks lists every row, in the order of docs/fixes.md. The slice is
// the caller's; the rows' own slices (Dists) are shared and must not be
// changed.
func Frameworks() []Framework {
	return slices.Clone(frameworkTable().rows)
}

// frameworkTable is the table built once: attribution looks rows up by
// name several times for every crash, on the detection path, and building
// the table's hundred-odd rows and texts for each lookup took a quarter of
// an attribution (BenchmarkAttribute). It is read-only once built.
var frameworkTable = sync.OnceValue(func() (t struct {
	rows   []Framework
	byName map[string]int
}) {
	t.rows = append(append(append(t.rows, pythonTools()...), rubyTools()...), otherTools()...)
	t.byName = make(map[string]int, len(t.rows))
	for i, fw := range t.rows {
		if _, dup := t.byName[fw.Name]; !dup {
			t.byName[fw.Name] = i // the first row of a name, as a scan finds it
		}
	}
	return t
})

// FrameworkByName returns the row for a Report.Framework value.
func FrameworkByName(name string) (Framework, bool) {
	if name == "" {
		return Framework{}, false
	}
	t := frameworkTable()
	if i, ok := t.byName[name]; ok {
		return t.rows[i], true
	}
	return Framework{}, false
}

func frameworkPtr(name string) *Framework {
	fw, ok := FrameworkByName(name)
	if !ok {
		return nil
	}
	return &fw
}

// FrameworkFromVia maps the fork tracer's fork_via (the module the program
// forked through: "multiprocessing.pool", "gunicorn.arbiter",
// "tornado.process") to a row. "" for user code or an unknown module.
func FrameworkFromVia(via string) string {
	top, _, _ := strings.Cut(via, ".")
	switch {
	case top == "multiprocessing" || strings.HasPrefix(via, "concurrent.futures"):
		return "multiprocessing"
	case top == "multiprocess" || top == "pathos":
		return "multiprocess"
	case top == "lightning" || top == "pytorch_lightning" || top == "lightning_fabric":
		return "lightning-ddp-fork"
	case strings.HasPrefix(via, "rq.scheduler"):
		return "rq"
	case top == "billiard" || top == "celery":
		return "celery"
	case strings.HasPrefix(via, "rq.worker_pool"):
		return "rq-pool"
	case strings.HasPrefix(via, "huey.consumer"):
		return "huey"
	case strings.HasPrefix(via, "tornado.process"):
		return "tornado"
	case strings.HasPrefix(via, "pyspark.daemon"):
		return "pyspark"
	case top == "pytest_forked":
		return "pytest-forked"
	case top == "pytest_parallel":
		return "pytest-parallel"
	case top == "locust":
		return "locust"
	case top == "uvicorn":
		return "uvicorn"
	case top == "gunicorn", top == "rq", top == "ansible", top == "uwsgi", top == "airflow":
		return top
	}
	return ""
}
