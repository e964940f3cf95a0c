package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/spf13/cobra"
)

// notifyCmd is `forkwatch notify --test [--quiet]`.
func (c *cli) notifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify --test [--quiet]",
		Short: "post a test notification, say which path delivered it",
		Long: `Post a test notification and say which path delivered it (native on macOS from
Forkwatch.app, D-Bus on Linux, else the fallback). With --quiet: print nothing, succeed only
if the native macOS path delivered (exit 3: the permission prompt is still unanswered).`,
		// The flags are parsed by runNotifyWith (its tests call it with
		// arguments); they are declared here for the help and completion.
		DisableFlagParsing: true,
		// The native check runs on the main thread, as it always has
		// (mainthread.go).
		Annotations: map[string]string{mainThreadAnnotation: mainThreadKeep},
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "--help" || a == "-h" {
					return cmd.Help()
				}
			}
			// The usage first, before asking anything of the desktop: a bad
			// flag or argument is exit 2 wherever it runs.
			if err := cmd.Flags().Parse(args); err != nil {
				return usagef("%v (see `%s --help`)", err, cmd.CommandPath())
			}
			if rest := cmd.Flags().Args(); len(rest) > 0 {
				return usagef("unexpected argument %q (see `%s --help`)", rest[0], cmd.CommandPath())
			}
			if test, _ := cmd.Flags().GetBool("test"); !test {
				return usagef("say --test: forkwatch notify --test [--quiet]")
			}
			if why := notify.NoSessionBus(runtime.GOOS, os.Getenv, notify.FileExists); why != "" {
				c.code = exitFailed
				fmt.Fprintln(c.stderr, "forkwatch notify:", why)
				return nil
			}
			c.code = runNotify(c.ctx, args, c.stdout, c.stderr)
			return nil
		},
	}
	cmd.Flags().Bool("test", false, "post a test notification and print which path delivered it")
	cmd.Flags().Bool("quiet", false, "print nothing; succeed only if the native macOS path delivered")
	return cmd
}

// runNotify posts a test notification and prints which path delivered it,
// so that the native path can be checked on a real Mac (the macOS workflow
// runs it).
//
// With --quiet it prints nothing and succeeds only if the native path
// delivered: it is the child the app runs once per version before trusting
// that path in its own process (see notify.RunTest for the exit codes).
func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	level := slog.LevelInfo // the steps of the native test, for a Mac's CI log
	for _, a := range args {
		if a == "--quiet" || a == "-quiet" {
			level = slog.LevelWarn
		}
	}
	return notify.RunTest(ctx, args, stdout, stderr, notify.AppConfig(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})), appinfo.Version(version)), notify.NewDesktopActionNotifier)
}
