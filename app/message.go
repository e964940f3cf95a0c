package main

import (
	"fmt"
	"strings"

	"github.com/forkwatch/forkwatch/monitor"
)

// alertFor says whether an event is worth a notification and with which
// text; from names what it came from, so that held-back alerts can be
// summarised per source. Only new Python crashes, and core files of 100 MB
// or more once complete, are announced.
func alertFor(ev monitor.Event) (title, body, from string, ok bool) {
	switch {
	case ev.Kind == monitor.KindCrash && ev.Report.Python && !ev.Report.Probe:
		title, body = crashMessage(ev.Report, ev.Core)
		return title, body, ev.Report.Process, true
	case ev.Kind == monitor.KindCore && ev.Core.Complete && ev.Core.Size >= 100<<20:
		who := "a process"
		if ev.Core.Process != "" {
			who = ev.Core.Process
		}
		title = "Core file: " + humanBytes(ev.Core.Size)
		body = fmt.Sprintf("%s (pid %d) left %s in %s. Forkwatch can turn core dumps off from its menu.", who, ev.Core.PID, humanBytes(ev.Core.Size), ev.Core.Path)
		return title, body, "core files", true
	}
	return "", "", "", false
}

// summaryMessage is the one notification for alerts held back in a window.
func summaryMessage(held int, heldFrom map[string]int) (title, body string) {
	var parts []string
	for from, n := range heldFrom {
		parts = append(parts, fmt.Sprintf("%d from %s", n, from))
	}
	title = fmt.Sprintf("%d more Python crashes", held)
	if held == 1 {
		title = "1 more Python crash"
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

// crashMessage is the notification for a Python crash.
func crashMessage(r *monitor.Report, core *monitor.CoreFile) (title, body string) {
	who := fmt.Sprintf("%s (pid %d", orDash(r.Process), r.PID)
	if r.ParentProcess != "" {
		who += fmt.Sprintf(", parent %s %d", r.ParentProcess, r.ParentPID)
	}
	who += ")"
	switch r.Cause {
	case monitor.CauseForkSafety:
		title = "Python crashed after fork()"
		body = who + " was killed by the Objective-C fork-safety check"
		if r.ObjCClass != "" {
			body += " in +[" + r.ObjCClass + " initialize]"
		}
		body += "."
	case monitor.CauseForkChild:
		title = "Python crashed in a fork child"
		body = who + " crashed after fork() but not by the Objective-C check"
		if r.Trigger != "" {
			body += " (" + r.Trigger + ")"
		}
		body += "."
	default:
		title = "Python crashed"
		body = who + " crashed with " + orDash(r.Signal) + "."
	}
	if core != nil {
		body += " Core file: " + humanBytes(core.Size) + "."
	}
	if r.Advice != "" {
		body += " " + r.Advice
	}
	return title, body
}

// humanBytes formats a size the way Finder does (decimal units).
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
