package monitor

import "time"

// KindRiskyFork is an Event for the first risky fork of a traced program
// (issue 30): a fork without exec from a threaded parent, found by the fork
// tracer before any child crashed.
const KindRiskyFork = "risky_fork"

// RiskyFork is one warning: a traced program forked from a threaded
// process and its child ran on without exec. It is given once per Key
// (program, project and fork site: forktrace.Record.RiskKey).
type RiskyFork struct {
	Key      string    `json:"key"`
	Time     time.Time `json:"time"` // the fork
	PID      int       `json:"pid"`  // the child
	PPID     int       `json:"ppid"` // the process that forked
	Program  string    `json:"program"`
	Project  string    `json:"project,omitempty"` // the parent's working folder
	Site     string    `json:"site,omitempty"`    // file:line, relative to Project when under it
	Function string    `json:"function,omitempty"`
	Via      string    `json:"fork_via,omitempty"`
	// Tool, Fix and FixSource are the tool table's row for Via
	// (report.FrameworkFromVia), when it names one.
	Tool      string `json:"tool,omitempty"`
	Fix       string `json:"fix"`
	FixSource string `json:"fix_source,omitempty"`
	// Threads are the parent's Python threads' names, when the tracer
	// gathered them; ThreadedHow says how it knew the parent was threaded.
	Threads     []string `json:"thread_names,omitempty"`
	ThreadedHow string   `json:"threaded_how,omitempty"`
	Reason      string   `json:"reason"` // "exited without exec", "ran 1s without exec"
	Python      string   `json:"python,omitempty"`
	// Meaning is the sentence that says whose risk it is.
	Meaning string `json:"meaning"`
}

// RiskyForkMeaning says what a risky fork means: the kill is macOS's, the
// deadlock risk everyone's.
const RiskyForkMeaning = "On macOS the Objective-C runtime kills such a child (SIGABRT) at its first +initialize before exec; on every system a fork from a threaded process can deadlock in the child (a lock held by another thread at the fork is never released)."
