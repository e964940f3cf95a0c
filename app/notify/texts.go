package notify

import (
	"fmt"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/monitor"
)

// alertFor says whether an event is worth a notification and with which
// text; from names what it came from, so that held-back alerts can be
// summarised per source. Crashes that report.Notable picks (any death
// after fork(), whatever the runtime, and other Python crashes), and core
// files of 100 MB or more once complete, are announced.
func alertFor(ev monitor.Event) (title, body, from string, ok bool) {
	switch {
	case ev.Kind == monitor.KindCrash && report.Notable(ev.Report):
		title, body = CrashMessage(ev.Report, ev.Core)
		from = ev.Report.Process
		if pp := ProgramProject(*ev.Report); pp != "" {
			from = pp
		}
		return title, body, from, true
	case ev.Kind == monitor.KindCore && ev.Core.Complete && ev.Core.Size >= 100<<20:
		who := "a process"
		if ev.Core.Process != "" {
			who = ev.Core.Process
		}
		title = "Core file: " + wording.HumanBytes(ev.Core.Size)
		body = fmt.Sprintf("%s (pid %d) left %s in %s. Forkwatch can turn core dumps off from its menu.", who, ev.Core.PID, wording.HumanBytes(ev.Core.Size), ev.Core.Path)
		return title, body, "core files", true
	case ev.Kind == monitor.KindRiskyFork && ev.Risk != nil:
		title, body = RiskyForkMessage(*ev.Risk)
		return title, body, riskyFrom, true
	}
	return "", "", "", false
}

// riskyFrom is what held-back first-risky-fork warnings are summarised as.
const riskyFrom = "forks at risk"

// RiskyForkTitle is the one-line form of a first-risky-fork warning, as
// the menu and `watch` show it: "gunicorn in ~/src/shop forks from a
// threaded process at app.py:12".
func RiskyForkTitle(w monitor.RiskyFork) string {
	s := w.Program
	if w.Project != "" {
		s += " in " + appinfo.TildePath(w.Project)
	}
	s += " forks from a threaded process"
	if w.Site != "" {
		s += " at " + w.Site
	}
	return s
}

// RiskyForkMessage is the notification for a first risky fork: what, the
// threads' names where known, whose risk it is, and the tool's fix.
func RiskyForkMessage(w monitor.RiskyFork) (title, body string) {
	title = "At risk: " + w.Program
	if w.Project != "" {
		title += " in " + appinfo.TildePath(w.Project)
	}
	body = "Forks from a threaded process"
	if w.Site != "" {
		body += " at " + w.Site
	}
	body += " and the child " + w.Reason + "."
	if len(w.Threads) > 0 {
		body += " Threads: " + strings.Join(w.Threads, ", ") + "."
	}
	body += " The kill is macOS's, the deadlock risk everyone's. Fix: " + w.Fix
	return title, body
}

// summaryMessage is the one notification for alerts held back in a window.
// python says every held alert was a Python crash: only then does the
// title name Python.
func summaryMessage(held int, heldFrom map[string]int, python bool) (title, body string) {
	if len(heldFrom) == 1 && heldFrom[riskyFrom] == held {
		// Only first-risky-fork warnings were held: no crash to count.
		return fmt.Sprintf("%d more %s at risk", held, wording.Plural(held, "fork", "forks")), "In the last minute, each from a threaded process without exec. Open Forkwatch for details."
	}
	var parts []string
	for from, n := range heldFrom {
		parts = append(parts, fmt.Sprintf("%d from %s", n, from))
	}
	noun := "crash"
	if python {
		noun = "Python crash"
	}
	title = fmt.Sprintf("%d more %ses", held, noun)
	if held == 1 {
		title = "1 more " + noun
	}
	body = strings.Join(parts, ", ") + ". Open Forkwatch for details."
	if len(heldFrom) == 1 {
		for from := range heldFrom {
			title += " from " + from
			body = "In the last minute. Open Forkwatch for details."
		}
	}
	return title, body
}

// CrashMessage is the notification for a crash worth announcing. With
// attribution it leads with the program and project ("celery worker in
// ~/src/shop: killed after fork()") and the fix for the tool that forked.
// Without, the title names the runtime: "Python crashed after fork()",
// and for the others "Ruby crashed after fork()", "sentry-cli crashed after
// fork()".
func CrashMessage(r *report.Report, core *report.CoreFile) (title, body string) {
	if prog := programName(*r); prog != "" {
		return attributedMessage(r, prog, core)
	}
	who := crashWho(r)
	name := runtimeName(r)
	python := isPythonCrash(r)
	switch r.Cause {
	case report.CauseForkSafety:
		title = name + " crashed after fork()"
		body = who + " was killed by the Objective-C fork-safety check"
		if r.ObjCClass != "" {
			body += " in +[" + r.ObjCClass + " initialize]"
		}
		body += "."
	case report.CauseForkChild:
		title = name + " crashed after fork()"
		if python {
			title = "Python crashed in a fork child"
		}
		body = who + " crashed after fork()"
		if r.Trigger != "" {
			body += " (" + r.Trigger + ")"
		}
		body += "."
	case report.CauseCFFork:
		title = name + " crashed after fork()"
		body = who + " used CoreFoundation after fork() without exec and CoreFoundation's fork check stopped it."
	default:
		title = name + " crashed"
		body = who + " crashed with " + wording.OrDash(r.Signal) + "."
	}
	if core != nil {
		body += " Core file: " + wording.HumanBytes(core.Size) + "."
	}
	if r.Advice != "" {
		body += " " + r.Advice
	}
	return title, body
}

// crashWho is "Python (pid 4242, parent gunicorn 4200)": a pid only when
// the report gives one (an excerpt may not; "pid 0" would be a claim), the
// parent's pid likewise.
func crashWho(r *report.Report) string {
	var in []string
	if r.PID > 0 {
		in = append(in, fmt.Sprintf("pid %d", r.PID))
	}
	if r.ParentProcess != "" {
		parent := "parent " + r.ParentProcess
		if r.ParentPID > 0 {
			parent += fmt.Sprintf(" %d", r.ParentPID)
		}
		in = append(in, parent)
	}
	if len(in) == 0 {
		return wording.OrDash(r.Process)
	}
	return wording.OrDash(r.Process) + " (" + strings.Join(in, ", ") + ")"
}

// aChild is "A child (pid 4242)", or "A child" when the report (an
// excerpt) gives no pid.
func aChild(r *report.Report) string {
	if r.PID <= 0 {
		return "A child"
	}
	return fmt.Sprintf("A child (pid %d)", r.PID)
}

// isPythonCrash says whether texts name Python for r: its runtime, or the
// report's Python flag for reports recorded before the runtime field.
func isPythonCrash(r *report.Report) bool {
	return report.RuntimeOrOther(r) == report.RuntimePython
}

// runtimeName is what a text calls the program that crashed: the runtime
// ("Python", "Ruby", "PHP", "Perl", "Node.js"), else the process name, else
// "A process".
func runtimeName(r *report.Report) string {
	if l := report.RuntimeLabel(report.RuntimeOrOther(r)); l != "" {
		return l
	}
	if r.Process != "" {
		return wording.Truncate(r.Process, 40)
	}
	return "A process"
}

// attributedMessage is CrashMessage when the program that forked is known.
func attributedMessage(r *report.Report, prog string, core *report.CoreFile) (title, body string) {
	title = prog
	if p := ProjectOf(*r); p != "" {
		title += " in " + appinfo.TildePath(p)
	}
	switch r.Cause {
	case report.CauseForkSafety:
		title += ": killed after fork()"
		body = aChild(r) + " was killed by the Objective-C fork-safety check"
		if r.ObjCClass != "" {
			body += " in +[" + r.ObjCClass + " initialize]"
		}
		body += "."
	case report.CauseForkChild:
		title += ": a fork child crashed"
		body = aChild(r) + " crashed after fork(), not by the Objective-C check"
		if r.Trigger != "" {
			body += " (" + r.Trigger + ")"
		}
		body += "."
	case report.CauseCFFork:
		title += ": killed after fork()"
		body = aChild(r) + " used CoreFoundation after fork() without exec; OBJC_DISABLE_INITIALIZE_FORK_SAFETY does not help here."
	default:
		title += ": " + runtimeName(r) + " crashed"
		body = fmt.Sprintf("%s crashed with %s", wording.OrDash(wording.ProcWithPID(r.Process, r.PID)), wording.OrDash(r.Signal))
		if r.Module != "" {
			body += " in " + r.Module
		}
		body += "."
	}
	if site := ForkSiteLine(*r); site != "" {
		body += " " + site + "."
	}
	if core != nil {
		body += " Core file: " + wording.HumanBytes(core.Size) + "."
	}
	if fix := FixOrAdvice(*r); fix != "" {
		body += " " + fix
	}
	return title, body
}

// programName is the program that forked, as attribution found it, or ""
// when nothing is known beyond the report's process name.
func programName(r report.Report) string { return report.ProgramName(&r) }

// ProgramProject is "gunicorn (shop)", "celery worker", or "" when
// attribution found nothing.
func ProgramProject(r report.Report) string {
	if programName(r) == "" {
		return ""
	}
	return report.GroupLabel(&r)
}

// ProjectOf is the project folder of a crash: the one attribution found
// from the loaded images or the parent's folder, else the folder the
// parent runs in.
func ProjectOf(r report.Report) string {
	if r.Project != "" {
		return r.Project
	}
	return r.ParentCwd
}

// FixOrAdvice is the tool's own fix when attribution found one, else the
// general advice.
func FixOrAdvice(r report.Report) string {
	if r.Fix != "" {
		return r.Fix
	}
	return r.Advice
}

// ForkSiteLine is "Forked at app/tasks.py:42 in run_jobs() via
// multiprocessing.pool" when the fork tracer recorded the fork.
func ForkSiteLine(r report.Report) string {
	if r.ForkSite == nil {
		return ""
	}
	s := fmt.Sprintf("Forked at %s:%d", appinfo.TildePath(r.ForkSite.File), r.ForkSite.Line)
	if r.ForkSite.Function != "" {
		s += " in " + r.ForkSite.Function + "()"
	}
	if r.ForkVia != "" {
		s += " via " + r.ForkVia
	}
	return s
}
