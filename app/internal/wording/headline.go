package wording

import "github.com/forkwatch/forkwatch/monitor/report"

// Headline says in one line what happened: the line under the path in
// `inspect`, and after the process in `watch`.
func Headline(r *report.Report) string {
	who := "A process"
	switch {
	case r.Python:
		who = "Python"
	case r.Process != "":
		who = r.Process
	}
	switch r.Cause {
	case report.CauseForkSafety:
		what := "was killed after fork() by the Objective-C fork-safety check"
		if r.ObjCClass != "" {
			what += " in +[" + r.ObjCClass + " initialize]"
		}
		return who + " " + what
	case report.CauseForkChild:
		// "Not the Objective-C check" only when the report's termination
		// reason is there and names something else; without it the
		// evidence cannot tell (issue 29).
		if r.ObjCRuledOut() {
			return who + " crashed in a forked child before exec (not the Objective-C check)"
		}
		return who + " crashed in a forked child before exec (no termination reason: not enough to tell whether the Objective-C check killed it)"
	case report.CauseCFFork:
		return who + " was stopped after fork() by CoreFoundation's own fork check"
	}
	// No sign of fork(): say "not after fork()" only when the report was
	// there to show it.
	sig := r.Signal
	if sig == "" {
		sig = "signal unknown"
	}
	switch {
	case r.ObjCTerminated():
		return who + " was stopped by the Objective-C runtime (Namespace OBJC); the report does not show whether it was a forked child"
	case r.ForkUnknown() && r.Python:
		return "Python crashed (" + sig + "); not enough of the report to tell whether after fork()"
	case r.ForkUnknown():
		return OrDash(r.Process) + " crashed (" + sig + "); not enough of the report to tell whether after fork() or whether it is Python"
	case r.Python:
		return "Python crashed (" + sig + "), not after fork()"
	}
	return "Not a Python process: " + OrDash(r.Process) + " crashed (" + sig + ")"
}
