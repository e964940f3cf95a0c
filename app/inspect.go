package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor"
	"io"
	"io/fs"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/spf13/cobra"
)

// inspectLine is one line of `inspect --json`: the report's fields, or the
// path and an error for a file that could not be read.
type inspectLine struct {
	*report.Report
	Path  string `json:"path"`
	Error string `json:"error,omitempty"`
}

// inspectCmd is `forkwatch inspect [--json] FILE...`.
func (c *cli) inspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect [--json] FILE...",
		Short: "classify crash reports (.ips, .crash): who crashed, why, and the fix",
		// It reads only the files it is given.
		Annotations: noHome(),
		Long: `Read each crash report (.ips or .crash, whole or an excerpt) and say what killed the process:
the Objective-C fork-safety check, another death after fork(), or something else, with the
evidence and the fix. Exit 0 when every file was read, 1 when one could not be.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one crash report (see `forkwatch inspect --help`)")
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return []string{"ips", "crash"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c.code = inspectFiles(args, asJSON, c.stdout, c.stderr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per file, one per line")
	return cmd
}

// inspectFiles describes each file on stdout. A file that cannot be read is
// one line on stderr (or, with --json, a line with its error on stdout, so
// that every file has its line) and exit code 1.
func inspectFiles(paths []string, asJSON bool, stdout, stderr io.Writer) int {
	status := exitOK
	for _, path := range paths {
		r, err := report.ReadFile(path)
		if err != nil && (r == nil || !errors.Is(err, report.ErrIncomplete)) {
			status = exitFailed
			if asJSON {
				writeJSONLine(stdout, inspectLine{Path: path, Error: err.Error()})
			} else {
				fmt.Fprintf(stderr, "forkwatch inspect: %s\n", readError(path, err))
			}
			continue
		}
		if asJSON {
			writeJSONLine(stdout, inspectLine{Report: r, Path: path})
			continue
		}
		fmt.Fprint(stdout, describe(path, r))
	}
	return status
}

// readError says why path could not be read without repeating it: Go's
// *fs.PathError already names the path ("open X: no such file or
// directory"), so its operation and path are replaced by ours.
func readError(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, fs.ErrNotExist):
			return fmt.Sprintf("%s: no such file (check the name; reports are in ~/Library/Logs/DiagnosticReports)", path)
		case errors.Is(pe.Err, fs.ErrPermission):
			return fmt.Sprintf("%s: permission denied (reports of other users need sudo to read)", path)
		}
		return fmt.Sprintf("%s: %v", path, pe.Err)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, path+": ") || strings.Contains(msg, path) {
		return msg
	}
	return path + ": " + msg
}

// writeJSONLine writes v and a newline in one Write, so that a reader of a
// pipe sees whole lines as events happen.
func writeJSONLine(w io.Writer, v any) {
	if ev, ok := v.(monitor.Event); ok {
		// Encode writes the line json.Marshal(ev) gives (compact, valid,
		// HTML-escaped) and its newline in one Write, from a pooled
		// buffer, without Marshal's copy of it or its second pass over
		// MarshalJSON's output, on the detection path
		// (TestEventLineAsMarshal). It writes nothing when it fails.
		err := json.NewEncoder(w).Encode(ev.JSONValue())
		if err == nil {
			return
		}
		v = map[string]string{"error": err.Error()}
	}
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
	fmt.Fprintf(&b, "  %s\n", wording.Headline(r))
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-10s %s\n", k+":", v)
		}
	}
	field("process", wording.ProcWithPID(r.Process, r.PID))
	field("parent", wording.ProcWithPID(r.ParentProcess, r.ParentPID))
	field("path", r.ExePath)
	field("time", r.Time)
	field("macOS", r.OSVersion)
	field("signal", strings.TrimSpace(r.Exception+" "+r.Signal))
	field("trigger", r.Trigger)
	field("advice", r.Advice)
	if r.Partial {
		field("note", "the report stops early (an excerpt, a header only, or still being written): fields come from what was there")
		if r.Signal == "" && r.Exception == "" {
			field("signal", "not enough of the report to tell")
		}
	}
	for _, e := range r.Evidence {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	b.WriteString("\n")
	return b.String()
}
