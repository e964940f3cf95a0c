package main

// The command tree. Forkwatch's subcommands, flags and help come from
// github.com/spf13/cobra, the Go ecosystem's common CLI library (gh,
// kubectl, hugo): it gives `forkwatch help CMD`, `CMD --help` (exit 0),
// "did you mean" suggestions for a mistyped command, and completion
// scripts for zsh, bash and fish (`forkwatch completion zsh`, which a
// Homebrew cask can install), so none of that is hand-written here. Its
// flags are github.com/spf13/pflag: GNU style, `--json` (a single dash is a
// short flag). https://cobra.dev/ and
// https://pkg.go.dev/github.com/spf13/cobra#Command.
//
// Each command is built by a small function beside its logic (inspectCmd in
// inspect.go, watchCmd in watchcmd.go, …) and added in newRootCmd; a new
// command is one more function and one more line there.
//
// Exit codes: 0 done (or nothing found), 1 a finding or a failure (a file
// that could not be read, a toggle that could not be set), 2 a usage error
// (unknown command or flag, a bad value), 3 the menu-bar app found no
// desktop (`make run` then starts `watch`).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/internal/jsonfmt"
	"github.com/spf13/cobra"
)

// Exit codes, documented in the root command's help and the README.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	// usageFooter ends every command's help; exit 3 is the app's alone
	// (the root command), so only its help names it.
	usageFooter = `Exit codes: 0 done, 1 a failure (or a finding the command reports as one), 2 a usage error{{if not .HasParent}},
3 the menu-bar app found no desktop (run ` + "`forkwatch watch`" + ` instead){{end}}.
Completion: forkwatch completion zsh|bash|fish --help says how to install it.`
)

// cli carries what every command needs: the context (cancelled on Ctrl-C),
// the two streams, and the exit code the command that ran chose.
type cli struct {
	ctx            context.Context
	stdout, stderr io.Writer
	code           int
}

// usageError is a mistake in how a command was called: exit 2, one line
// naming the bad value and what to do.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// newRootCmd builds the whole tree; run executes it.
func newRootCmd(c *cli) *cobra.Command {
	root := c.appCmd()
	root.AddCommand(
		c.inspectCmd(),
		c.watchCmd(),
		c.statusCmd(),
		c.setCmd(),
		c.uninstallCmd(),
		c.doctorCmd(),
		c.checkCmd(),
		c.historyCmd(),
		c.traceCmd(),
		c.notifyCmd(),
		c.debugCmd(),
		c.versionCmd(),
	)
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		releaseMainThread(root, cmd)             // mainthread.go
		return refuseRootWithUserHome(cmd, args) // rootguard.go
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v (see `%s --help`)", err, cmd.CommandPath())
	})
	// fish/zsh completion descriptions are kept; the default command stays
	// visible so that `forkwatch help` lists it.
	root.CompletionOptions.HiddenDefaultCmd = false
	// The completion group: a shell it does not know (tcsh) or none is a
	// usage error with the shells it knows, not its help and exit 0.
	root.InitDefaultCompletionCmd()
	if comp, _, err := root.Find([]string{"completion"}); err == nil && comp != root {
		comp.Args = subcommandArgs
		comp.RunE = func(cmd *cobra.Command, args []string) error { return subcommandArgs(cmd, args) }
	}
	stampJSON(c, root)
	return root
}

// stampJSON makes every command's --json output carry the format's
// version: while a command runs with --json, its stdout is a
// jsonfmt.Stamper, which puts "schema" first in each JSON line
// (internal/jsonfmt.Schema, the one constant every room uses).
func stampJSON(c *cli, cmd *cobra.Command) {
	for _, s := range cmd.Commands() {
		stampJSON(c, s)
	}
	run := cmd.RunE
	if run == nil || cmd.Flags().Lookup("json") == nil || cmd.DisableFlagParsing {
		return
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if on, _ := cmd.Flags().GetBool("json"); !on {
			return run(cmd, args)
		}
		plain := c.stdout
		st := jsonfmt.NewStamper(plain)
		c.stdout = st
		defer func() {
			st.Flush()
			c.stdout = plain
		}()
		return run(cmd, args)
	}
}

// execute runs the tree on args and returns the exit code. Errors are one
// line on stderr: "forkwatch CMD: what went wrong; what to do".
func (c *cli) execute(args []string) int {
	root := newRootCmd(c)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return c.code
	}
	name := "forkwatch"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	msg := strings.TrimSpace(err.Error())
	// cobra's own errors (an unknown flag, a wrong number of arguments)
	// come as text: they are usage errors too.
	var ue usageError
	if errors.As(err, &ue) || cmd == nil || isCobraUsage(msg) {
		fmt.Fprintf(c.stderr, "%s: %s\n", name, oneLine(msg))
		return exitUsage
	}
	fmt.Fprintf(c.stderr, "%s: %s\n", name, oneLine(msg))
	return exitFailed
}

// isCobraUsage recognises the argument errors cobra and pflag produce.
func isCobraUsage(msg string) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument", "flag needs an argument", "bad flag syntax",
		"if any flags in the group", "at least one of the flags in the group", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// oneLine folds cobra's multi-line suggestions ("\n\nDid you mean
// this?\n\tinspect") into one line.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n\nDid you mean this?\n", "; did you mean: ")
	f := strings.Fields(s)
	return strings.Join(f, " ")
}

// subcommandArgs is the Args check of a command that only groups others
// (trace): a missing or unknown subcommand is a usage error with a
// suggestion, not the help text and exit 0.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	var names []string
	for _, s := range cmd.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	if len(args) == 0 {
		return usagef("say which: %s (see `%s --help`)", strings.Join(names, ", "), cmd.CommandPath())
	}
	msg := fmt.Sprintf("unknown subcommand %q", args[0])
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, which only its own error path sets
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usagef("%s (the subcommands: %s)", msg, strings.Join(names, ", "))
}

// rootArgs rejects an unknown command with a suggestion; the root's own
// run (the app) takes no arguments.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usagef("%s (`forkwatch help` lists the commands)", msg)
}

// exactArgs is cobra.ExactArgs with a message saying what is expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d %s (see `%s --help`)", what, len(args), wording.Plural(len(args), "argument", "arguments"), cmd.CommandPath())
		}
		return nil
	}
}

// noArgs rejects stray arguments, naming the first.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q (see `%s --help`)", args[0], cmd.CommandPath())
	}
	return nil
}

func (c *cli) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:         "version",
		Short:       "print the version (same as --version)",
		Args:        noArgs,
		Hidden:      true,
		Annotations: noHome(),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(c.stdout, "forkwatch %s\n", appinfo.Version(version))
			return nil
		},
	}
}
