package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"io"
	"strings"
)

// inspectLine is one line of `inspect --json`: the report's fields, or the
// path and an error for a file that could not be read.
type inspectLine struct {
	*report.Report
	Path  string `json:"path"`
	Error string `json:"error,omitempty"`
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per file, one per line")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: forkwatch inspect [--json] FILE...")
		return 2
	}
	status := 0
	for _, path := range fs.Args() {
		r, err := report.ReadFile(path)
		if err != nil && (r == nil || !errors.Is(err, report.ErrIncomplete)) {
			status = 1
			if *asJSON {
				writeJSONLine(stdout, inspectLine{Path: path, Error: err.Error()})
			} else {
				fmt.Fprintf(stdout, "%s: error: %v\n\n", path, err)
			}
			continue
		}
		if *asJSON {
			writeJSONLine(stdout, inspectLine{Report: r, Path: path})
			continue
		}
		fmt.Fprint(stdout, describe(path, r))
	}
	return status
}

// writeJSONLine writes v and a newline in one Write, so that a reader of a
// pipe sees whole lines as events happen.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	w.Write(append(b, '\n'))
}

// describe is the human-readable form of a report.
func describe(path string, r *report.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", path)
	fmt.Fprintf(&b, "  %s\n", headline(r))
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-10s %s\n", k+":", v)
		}
	}
	field("process", procWithPID(r.Process, r.PID))
	field("parent", procWithPID(r.ParentProcess, r.ParentPID))
	field("path", r.ExePath)
	field("time", r.Time)
	field("macOS", r.OSVersion)
	field("signal", strings.TrimSpace(r.Exception+" "+r.Signal))
	field("trigger", r.Trigger)
	field("advice", r.Advice)
	if r.Partial {
		field("note", "the report stops early (an excerpt, or still being written): fields come from what was there")
	}
	for _, e := range r.Evidence {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	b.WriteString("\n")
	return b.String()
}

func procWithPID(name string, pid int) string {
	switch {
	case name == "" && pid == 0:
		return ""
	case pid == 0:
		return name
	default:
		return fmt.Sprintf("%s (pid %d)", name, pid)
	}
}

// headline says in one line what happened.
func headline(r *report.Report) string {
	who := "A process"
	if r.Python {
		who = "Python"
	}
	switch r.Cause {
	case report.CauseForkSafety:
		what := "was killed after fork() by the Objective-C fork-safety check"
		if r.ObjCClass != "" {
			what += " in +[" + r.ObjCClass + " initialize]"
		}
		return who + " " + what
	case report.CauseForkChild:
		return who + " crashed in a forked child before exec (not the Objective-C check)"
	}
	if r.Python {
		return "Python crashed (" + orDash(r.Signal) + "), not after fork()"
	}
	return "Not a Python process: " + orDash(r.Process) + " crashed (" + orDash(r.Signal) + ")"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
