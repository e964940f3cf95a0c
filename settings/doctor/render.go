package doctor

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report as JSON lines: one {"kind":"interpreter"}
// line per interpreter, then {"kind":"core_system"} and
// {"kind":"fork_safety"}.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	// The Ruby interpreters too, as the text lists them (issue 32: the
	// JSON left them out), told apart by "runtime".
	for _, group := range []struct {
		runtime string
		list    []Interpreter
	}{{"python", rep.Interpreters}, {"ruby", rep.Rubies}} {
		for _, in := range group.list {
			if err := enc.Encode(struct {
				Kind    string `json:"kind"`
				Runtime string `json:"runtime"`
				Interpreter
			}{"interpreter", group.runtime, in}); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
		}
	}
	if err := enc.Encode(struct {
		Kind string `json:"kind"`
		CoreSystem
	}{"core_system", rep.System}); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := enc.Encode(struct {
		Kind string `json:"kind"`
		ForkSafety
	}{"fork_safety", rep.ForkSafety}); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Fixes lists every fix the report suggests, once each, in order.
func (rep Report) Fixes() []string {
	var out []string
	seen := map[string]bool{}
	add := func(v Verdict, what string) {
		if v.Fix != "" && !seen[v.Fix] {
			seen[v.Fix] = true
			out = append(out, what+": "+v.Fix)
		}
	}
	for _, in := range rep.Interpreters {
		add(in.CoreFromShell, "core files from a terminal")
		add(in.CoreFromLaunchd, "core files from apps")
	}
	fs := rep.ForkSafety
	// The variable is a band-aid: suggest it only where a probe showed the
	// kill and the variable stopping it, where launchd holds a value the
	// runtime ignores, or where it is set now but will be gone at logout.
	affected := false
	for _, in := range rep.Interpreters {
		if p := in.Probe; p != nil && p.Without.Outcome == Killed && p.With.Outcome == Survived {
			affected = true
		}
	}
	if affected || (fs.LaunchdValue != "" && fs.LaunchdValue != "YES") {
		add(fs.LaunchdNow, "fork safety for apps")
	}
	if affected || fs.LaunchdValue == "YES" {
		add(fs.NextLogin, "fork safety after the next login")
	}
	add(fs.Shell, "fork safety in terminals")
	if len(fs.Restart) > 0 {
		var names []string
		for _, a := range fs.Restart {
			names = append(names, a.Name)
		}
		out = append(out, "restart to pick up "+ForkSafetyVar+": "+strings.Join(names, ", ")+" (inferred from start times)")
	}
	return out
}

// WriteText writes the report as a table of verdicts with their fixes.
func WriteText(w io.Writer, rep Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Python interpreters: %d found (checked in %.1f s)\n\n", len(rep.Interpreters), rep.Took.Seconds())
	if len(rep.Interpreters) == 0 {
		b.WriteString("  none found on PATH or in the usual places (Homebrew, python.org, pyenv, asdf, mise, rye, pdm, hatch, uv, conda); add one with --python PATH\n\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	probe := false
	for _, in := range rep.Interpreters {
		probe = probe || in.Probe != nil
	}
	head := "PATH\tVERSION\tORIGIN\tSTART\tHARDENED\tGET-TASK-ALLOW\tCORE FROM TERMINAL\tCORE FROM APPS"
	if probe {
		head += "\tPROBE WITHOUT\tPROBE WITH"
	}
	fmt.Fprintln(tw, head)
	for _, in := range rep.Interpreters {
		ver := orDash(in.Version)
		if in.Skipped != "" {
			ver = "not run"
		} else if in.Error != "" {
			ver = "error"
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", in.Path, ver, in.Origin, orDash(in.StartMethod),
			in.HardenedRuntime, in.GetTaskAllow, in.CoreFromShell.Verdict, in.CoreFromLaunchd.Verdict)
		if probe {
			if in.Probe != nil {
				line += "\t" + runWord(in.Probe.Without) + "\t" + runWord(in.Probe.With)
			} else {
				line += "\t-\t-"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	b.WriteString("\n")
	for _, in := range rep.Interpreters {
		if in.Skipped == "" && in.Error == "" && in.Probe == nil {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", in.Path)
		if in.Skipped != "" {
			fmt.Fprintf(&b, "  not run: %s\n", in.Skipped)
		}
		if in.Error != "" {
			fmt.Fprintf(&b, "  %s\n", in.Error)
		}
		if p := in.Probe; p != nil {
			fmt.Fprintf(&b, "  probe: %s\n", p.Verdict)
			for _, r := range []struct {
				name string
				run  ProbeRun
			}{{"without", p.Without}, {"with", p.With}, {"inside", p.Inside}} {
				fmt.Fprintf(&b, "    %-8s %s (%s)", r.name, runWord(r.run), r.run.Env)
				if r.run.Detail != "" {
					fmt.Fprintf(&b, ": %s", r.run.Detail)
				}
				b.WriteString("\n")
				if r.run.Message != "" {
					fmt.Fprintf(&b, "             %s\n", r.run.Message)
				}
			}
		}
	}

	writeRubies(&b, rep.Rubies)

	cs := rep.System
	b.WriteString("Core files\n")
	if len(rep.Interpreters) > 0 {
		// The reasons are the same for interpreters alike but for the
		// entitlement; show the first of each kind.
		fmt.Fprintf(&b, "  from a new terminal: %s\n", firstReasons(rep.Interpreters, true))
		fmt.Fprintf(&b, "  from apps (launchd): %s\n", firstReasons(rep.Interpreters, false))
	}
	fmt.Fprintf(&b, "  %s\n", systemFacts(cs))
	if cs.CoreDir != "" {
		fmt.Fprintf(&b, "  %s: exists %s, writable by you %s\n", cs.CoreDir, yesNo(cs.CoreDirExists), yesNo(cs.CoreDirWritable))
	}
	fs := rep.ForkSafety
	b.WriteString("\nFork safety (" + ForkSafetyVar + ")\n")
	fmt.Fprintf(&b, "  apps started now:    %s: %s\n", fs.LaunchdNow.Verdict, fs.LaunchdNow.Reason)
	fmt.Fprintf(&b, "  after next login:    %s: %s\n", fs.NextLogin.Verdict, fs.NextLogin.Reason)
	fmt.Fprintf(&b, "  new terminals:       %s: %s\n", fs.Shell.Verdict, fs.Shell.Reason)
	for _, l := range fs.ShellLines {
		fmt.Fprintf(&b, "    %s:%d: %s", l.File, l.Line, l.Text)
		if l.Problem != "" {
			fmt.Fprintf(&b, "  <- %s", l.Problem)
		}
		b.WriteString("\n")
	}
	if len(fs.Restart) > 0 {
		b.WriteString("  restart these to pick it up:\n")
		for _, a := range fs.Restart {
			fmt.Fprintf(&b, "    %s (pid %d, started %s)\n", a.Name, a.PID, a.Started.Format(time.DateTime))
		}
	}
	fmt.Fprintf(&b, "  (%s)\n", fs.RestartNote)
	if fixes := rep.Fixes(); len(fixes) > 0 {
		b.WriteString("\nFixes\n")
		for _, f := range fixes {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRubies is the Ruby interpreters' table: the same signature facts
// and core-dump verdicts as the Pythons'. Fork tracing and the probe are
// Python's alone, and the table says so.
func writeRubies(b *strings.Builder, rubies []Interpreter) {
	if len(rubies) == 0 {
		return
	}
	fmt.Fprintf(b, "Ruby interpreters: %d found (core-dump verdicts as above; fork tracing and the probe are for Python only)\n\n", len(rubies))
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tVERSION\tORIGIN\tHARDENED\tGET-TASK-ALLOW\tCORE FROM TERMINAL\tCORE FROM APPS")
	for _, in := range rubies {
		ver := orDash(in.Version)
		if in.Error != "" {
			ver = "error"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Path, ver, in.Origin, in.HardenedRuntime, in.GetTaskAllow, in.CoreFromShell.Verdict, in.CoreFromLaunchd.Verdict)
	}
	tw.Flush()
	b.WriteString("\n")
	for _, in := range rubies {
		if in.Error != "" {
			fmt.Fprintf(b, "%s:\n  %s\n", in.Path, in.Error)
		}
	}
}

func firstReasons(list []Interpreter, shell bool) string {
	seen := map[string]bool{}
	var out []string
	for _, in := range list {
		v := in.CoreFromLaunchd
		if shell {
			v = in.CoreFromShell
		}
		s := v.Verdict + ": " + v.Reason
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("(and %d more)", len(out)-3))
	}
	return strings.Join(out, "; ")
}

func runWord(r ProbeRun) string {
	switch r.Outcome {
	case Killed:
		return "killed (" + r.Signal + ")"
	case "":
		return "-"
	}
	return r.Outcome
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return Yes
	}
	return No
}

var htmlPage = template.Must(template.New("doctor").Funcs(template.FuncMap{
	"run":   runWord,
	"facts": systemFacts,
	"count": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprint(n) + " " + many
	},
	"time": func(t time.Time) string {
		return t.Format(time.DateTime)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Forkwatch: Check This Mac</title>
<style>
body{font:14px -apple-system,system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.yes{color:#a40}.no{color:#070}.unknown{color:#777}code{font:12px ui-monospace,monospace}
.fix{background:#fffbe6;padding:.5em 1em;border-left:3px solid #e0b000}
</style></head><body>
<h1>Check This Mac</h1>
<p>{{count (len .Interpreters) "Python interpreter" "Python interpreters"}}, checked {{time .Time}}.</p>
<table><tr><th>Interpreter</th><th>Version</th><th>Origin</th><th>Start method</th><th>Hardened</th><th>get-task-allow</th><th>Core file from a terminal</th><th>Core file from apps</th>{{if .HasProbe}}<th>Probe</th>{{end}}</tr>
{{range .Interpreters}}<tr><td><code>{{.Path}}</code>{{if ne .Path .RealPath}}<br><small>{{.RealPath}}</small>{{end}}{{if .Skipped}}<br><small>{{.Skipped}}</small>{{end}}{{if .Error}}<br><small>{{.Error}}</small>{{end}}</td>
<td>{{.Version}}</td><td>{{.Origin}}</td><td>{{.StartMethod}}</td><td>{{.HardenedRuntime}}</td><td>{{.GetTaskAllow}}</td>
<td class="{{.CoreFromShell.Verdict}}">{{.CoreFromShell.Verdict}}: {{.CoreFromShell.Reason}}</td>
<td class="{{.CoreFromLaunchd.Verdict}}">{{.CoreFromLaunchd.Verdict}}: {{.CoreFromLaunchd.Reason}}</td>
{{if $.HasProbe}}<td>{{with .Probe}}{{.Verdict}}<br>without: {{run .Without}}{{with .Without.Message}}<br><code>{{.}}</code>{{end}}<br>with: {{run .With}}<br>inside Python: {{run .Inside}}{{end}}</td>{{end}}</tr>
{{end}}</table>
<h2>Core files</h2>
<p>{{facts .System}}</p>
<h2>Fork safety</h2>
{{with .ForkSafety}}<table>
<tr><th>Apps started now</th><td class="{{.LaunchdNow.Verdict}}">{{.LaunchdNow.Verdict}}: {{.LaunchdNow.Reason}}</td></tr>
<tr><th>After next login</th><td>{{.NextLogin.Verdict}}: {{.NextLogin.Reason}}</td></tr>
<tr><th>New terminals</th><td>{{.Shell.Verdict}}: {{.Shell.Reason}}{{range .ShellLines}}<br><code>{{.File}}:{{.Line}}: {{.Text}}</code>{{with .Problem}} ← {{.}}{{end}}{{end}}</td></tr>
</table>
{{if .Restart}}<p>Restart these to pick it up:</p><ul>{{range .Restart}}<li>{{.Name}} (pid {{.PID}}, started {{time .Started}})</li>{{end}}</ul>{{end}}
<p><small>{{.RestartNote}}</small></p>{{end}}
{{with .Fixes}}<div class="fix"><h2>Fixes</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
</body></html>
`))

// WriteHTML writes the report as one self-contained page (no scripts, no
// outside resources; every value escaped by html/template), the page the
// menu's "Check This Mac…" opens.
func WriteHTML(w io.Writer, rep Report) error {
	probe := false
	for _, in := range rep.Interpreters {
		probe = probe || in.Probe != nil
	}
	data := struct {
		Report
		HasProbe bool
		Fixes    []string
	}{rep, probe, rep.Fixes()}
	if err := htmlPage.Execute(w, data); err != nil {
		return fmt.Errorf("write report page: %w", err)
	}
	return nil
}

// notAvailable stands for a fact this system does not have (kern.coredump
// on Linux, launchd's limits), instead of an empty value.
const notAvailable = "not available on this system"

// systemFacts is the core-file facts line: each fact with its value, or
// "not available on this system" for the ones that could not be read
// (where several are missing they are named together once).
func systemFacts(cs CoreSystem) string {
	var have, missing []string
	fact := func(name, v string) {
		if v == "" {
			missing = append(missing, name)
			return
		}
		have = append(have, name+"="+v)
	}
	fact("kern.coredump", cs.Coredump)
	fact("kern.corefile", cs.CoreFile)
	if cs.LaunchdSoft != "" || cs.LaunchdHard != "" {
		have = append(have, "launchd limit core "+orDash(cs.LaunchdSoft)+"/"+orDash(cs.LaunchdHard))
	} else {
		missing = append(missing, "launchd limit core")
	}
	if cs.ShellLimit != "" {
		s := "new shells: " + cs.ShellLimit
		if cs.ShellSource != "" {
			s += " (" + cs.ShellSource + ")"
		}
		have = append(have, s)
	} else {
		missing = append(missing, "the new shells' core limit")
	}
	out := strings.Join(have, ", ")
	if len(missing) > 0 {
		if out != "" {
			out += "; "
		}
		out += strings.Join(missing, ", ") + ": " + notAvailable
	}
	return out
}
