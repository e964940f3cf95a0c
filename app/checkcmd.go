package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor/project"
	"github.com/spf13/cobra"
)

// checkCmd is `forkwatch check [PROJECT]` (issue 30): a preflight that
// reads a project's own files (monitor/project: its Procfile, Compose
// file, gunicorn.conf.py, pytest configuration, Celery/rq/huey settings,
// Gemfile.lock, config/puma.rb, config/queue.yml, pinned requirements and
// the venv's installed versions) and runs nothing. The tools are
// recognised with the crash path's table (report.ToolFromCommand,
// FrameworkByName): one table for both.
func (c *cli) checkCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "check [PROJECT]",
		// It reads the project and writes nothing: no home folder is
		// touched, so root may run it (it then reads only root's files).
		Annotations: noHome(),
		Short:       "before anything runs: say which tools in a project fork without exec, and the fix",
		Long: `Read a project's own files (default: the current folder) and print each tool found that forks
without exec, in which mode, what that means on macOS, the fix, and the file and line it was read
from. Nothing is run or imported; only files you own that nobody else can write are read.
Exit 0 when nothing is at risk, 1 when something is (a verdict that depends on a version the
project does not pin counts as at risk), 2 on usage errors (no such folder, not yours).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			code, err := runCheck(dir, asJSON, c.stdout)
			c.code = code
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line: each finding, each skipped file, then a summary")
	return cmd
}

// checkMeaning is what a forking tool means, on macOS and elsewhere.
const checkMeaning = "On macOS the Objective-C runtime kills (SIGABRT) a child forked from a process that ever started a thread at its first +initialize before exec; on every system a fork from a threaded process can deadlock in the child."

// checkFinding is one finding as `check --json` prints it.
type checkFinding struct {
	Kind string `json:"kind"` // "finding"
	project.Finding
	AtRisk  bool   `json:"at_risk"`
	Meaning string `json:"meaning,omitempty"`
}

// checkSummary ends `check --json`'s output.
type checkSummary struct {
	Kind     string            `json:"kind"` // "summary"
	Dir      string            `json:"dir"`
	AtRisk   int               `json:"at_risk"`
	Findings int               `json:"findings"`
	Versions map[string]string `json:"versions,omitempty"`
	Exit     int               `json:"exit"`
}

// runCheck scans dir and prints the verdicts; the exit code is 0 (nothing
// at risk), 1 (something is) or 2 (dir is not a project folder of the
// user's, returned as a usage error).
func runCheck(dir string, asJSON bool, stdout io.Writer) (int, error) {
	res, err := project.Scan(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return exitUsage, usagef("%s: no such folder", dir)
		}
		if errors.Is(err, project.ErrNotProject) || errors.Is(err, fs.ErrPermission) {
			return exitUsage, usagef("%v", err)
		}
		return exitUsage, usagef("check %s: %v", dir, err)
	}
	risky := 0
	for _, f := range res.Findings {
		if f.Forks {
			risky++
		}
	}
	code := exitOK
	if risky > 0 {
		code = exitFailed
	}
	if asJSON {
		for _, f := range res.Findings {
			cf := checkFinding{Kind: "finding", Finding: f, AtRisk: f.Forks}
			if f.Forks {
				cf.Meaning = checkMeaning
			}
			writeJSONLine(stdout, cf)
		}
		for _, s := range res.Skipped {
			writeJSONLine(stdout, struct {
				Kind string `json:"kind"`
				project.Skip
			}{"skipped", s})
		}
		writeJSONLine(stdout, checkSummary{Kind: "summary", Dir: res.Dir, AtRisk: risky, Findings: len(res.Findings), Versions: res.Versions, Exit: code})
		return code, nil
	}
	io.WriteString(stdout, checkText(res, risky))
	return code, nil
}

// checkText is the terminal form of a check.
func checkText(res project.Result, risky int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", appinfo.TildePath(res.Dir))
	for _, f := range res.Findings {
		where := fmt.Sprintf("%s:%d", relTo(res.Dir, f.File), f.Line)
		if !f.Forks {
			fmt.Fprintf(&b, "  safe     %s (%s) at %s: does not fork without exec in this mode\n", f.Tool, f.Mode, where)
			for _, c := range f.Caveats {
				fmt.Fprintf(&b, "           note: %s\n", c)
			}
			continue
		}
		fmt.Fprintf(&b, "  AT RISK  %s (%s) at %s\n", f.Tool, f.Mode, where)
		if f.Text != "" {
			fmt.Fprintf(&b, "           %s\n", f.Text)
		}
		fmt.Fprintf(&b, "           %s\n", checkMeaning)
		if f.Fix != "" {
			fmt.Fprintf(&b, "           fix: %s (%s)\n", f.Fix, f.FixSource)
		}
		for _, c := range f.Caveats {
			fmt.Fprintf(&b, "           note: %s\n", c)
		}
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(&b, "  skipped  %s: %s\n", relTo(res.Dir, s.File), s.Reason)
	}
	switch {
	case risky > 0:
		fmt.Fprintf(&b, "%s at risk of the fork-without-exec kill on macOS.\n", wording.Plural(risky, "1 setting is", fmt.Sprintf("%d settings are", risky)))
	case len(res.Findings) > 0:
		b.WriteString("Nothing at risk: the tools found do not fork without exec as configured.\n")
	default:
		b.WriteString("Nothing at risk: no tool that forks without exec is configured here.\n")
	}
	return b.String()
}

// relTo shows a file under dir relative to it.
func relTo(dir, file string) string {
	if rest, ok := strings.CutPrefix(file, dir+string(os.PathSeparator)); ok {
		return rest
	}
	return file
}

// checkVerdict is "Check a Project…"'s notification for dir: the verdict
// as a title, the tools at risk with their places (or that nothing is) as
// the body.
func checkVerdict(dir string) (title, body string, err error) {
	res, err := project.Scan(dir)
	if err != nil {
		return "", "", err
	}
	var parts []string
	for _, f := range res.Findings {
		if f.Forks {
			parts = append(parts, fmt.Sprintf("%s (%s:%d)", f.Tool, relTo(res.Dir, f.File), f.Line))
		}
	}
	name := appinfo.TildePath(res.Dir)
	if len(parts) == 0 {
		return "Nothing at risk in " + name, "No tool configured here forks without exec. Run forkwatch check " + name + " for the details.", nil
	}
	title = fmt.Sprintf("At risk: %s in %s", wording.Plural(len(parts), "1 setting", fmt.Sprintf("%d settings", len(parts))), name)
	body = strings.Join(parts, ", ") + " fork without exec: on macOS a child of a threaded parent is killed at its first +initialize. Run forkwatch check " + name + " for each fix."
	return title, body, nil
}
