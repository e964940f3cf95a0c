package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/lldb"
)

// debugFlags are debug's flags.
type debugFlags struct {
	open, exec, asJSON bool
	exe, db, planFile  string
}

// debugCmd is `forkwatch debug [--open|--exec] [--exe PATH] [--json]
// REPORT|CORE`: the lldb command for a crash report or a core file (the
// plan is made in app/lldb). Exit codes: 0 done, 1 failed (a file that is
// neither a report nor a core file, as `inspect` exits for a file that is
// not a report), 2 usage; with --exec, lldb's own.
func (c *cli) debugCmd() *cobra.Command {
	var o debugFlags
	cmd := &cobra.Command{
		Use:   "debug [--open|--exec] [--exe PATH] [--json] REPORT|CORE",
		Short: "the lldb command for a crash report or core file",
		Long: `Print the lldb command for a crash report (lldb's crashlog symbolication) or a core file
(lldb --core CORE --file EXE, the executable from the matching report in the history, or --exe).
--open opens it in Terminal (macOS), --exec runs it here. The file must be yours, or in a folder
Forkwatch watches, and not writable by others. Exit 0 done, 1 failed (a file that is neither a
crash report nor a core file, too), 2 a usage error; with --exec, lldb's exit code.`,
		Example: "  forkwatch debug ~/Library/Logs/DiagnosticReports/Python-2026-11-26-101010.ips\n  forkwatch debug --exec /cores/core.4242",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.planFile != "" && len(args) == 0:
				return nil
			case o.open && o.exec:
				return usagef("--open and --exec: say one (see `%s --help`)", cmd.CommandPath())
			}
			return exactArgs(1, "one crash report or core file")(cmd, args)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveDefault // reports and core files (core.4242 has no extension)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.planFile != "" {
				// Terminal's .command file execs lldb through here.
				return lldb.ExecPlanFile(o.planFile)
			}
			code, err := runDebug(c, o, args[0])
			c.code = code
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.open, "open", false, "open the command in Terminal (macOS)")
	f.BoolVar(&o.exec, "exec", false, "run lldb here, in this terminal")
	f.StringVar(&o.exe, "exe", "", "with a core file: the executable that crashed")
	f.StringVar(&o.db, "db", appinfo.HistoryDBPath(), "history database (to find a core file's executable)")
	f.BoolVar(&o.asJSON, "json", false, "print the plan as JSON")
	f.StringVar(&o.planFile, "exec-plan", "", "internal: run the plan a Terminal .command file names")
	f.MarkHidden("exec-plan")
	cmd.MarkFlagFilename("exe")
	cmd.MarkFlagFilename("db", "db")
	return cmd
}

// runDebug prints the plan for target and runs or opens it as asked. It
// returns the exit code, or an error (exit 1, one line).
func runDebug(c *cli, o debugFlags, target string) (int, error) {
	plan, err := lldb.PlanFor(c.ctx, target, o.exe, o.db)
	if err != nil {
		return exitFailed, err
	}
	if o.asJSON {
		writeJSONLine(c.stdout, plan)
	} else {
		lldb.Print(c.stdout, plan)
	}
	switch {
	case o.exec:
		return lldb.Exec(c.ctx, plan, c.stdout, c.stderr)
	case o.open:
		cmdFile, err := lldb.OpenInTerminal(c.ctx, runtime.GOOS, "", plan)
		if err != nil {
			return exitFailed, err
		}
		fmt.Fprintln(c.stdout, "Opened in Terminal:", cmdFile)
	}
	return exitOK, nil
}
