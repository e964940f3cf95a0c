package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"

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
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "--help" || a == "-h" {
					return cmd.Help()
				}
			}
			if why := noSessionBus(runtime.GOOS, os.Getenv, fileExists); why != "" {
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
// that path in its own process (see notify_native.go). Exit codes: 0
// delivered, 1 not delivered (or, with --quiet, not natively), 2 usage,
// 3 (--quiet) the permission prompt is still unanswered.
func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	level := slog.LevelInfo // the steps of the native test, for a Mac's CI log
	for _, a := range args {
		if a == "--quiet" || a == "-quiet" {
			level = slog.LevelWarn
		}
	}
	return runNotifyWith(ctx, args, stdout, stderr, appNotifierConfig(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))), newDesktopActionNotifier)
}

// runNotifyWith is runNotify with its dependencies, for tests.
func runNotifyWith(ctx context.Context, args []string, stdout, stderr io.Writer, cfg nativeConfig, desktop func(ActionNotifier) (ActionNotifier, error)) int {
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	test := fs.Bool("test", false, "post a test notification and print which path delivered it")
	quiet := fs.Bool("quiet", false, "print nothing; succeed only if the native macOS path delivered")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !*test || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: forkwatch notify --test [--quiet]")
		return 2
	}
	n := Notification{
		Title: "Forkwatch notifications work",
		Body:  fmt.Sprintf("A test from `forkwatch notify --test` (version %s). Crash notifications will look like this.", cfg.Version),
	}
	nativeErr := nativeTest(ctx, cfg, n)
	if *quiet {
		if nativeErr != nil {
			fmt.Fprintln(stderr, "forkwatch notify:", nativeErr)
			if errors.Is(nativeErr, errPermissionPending) {
				return exitPermissionPending
			}
			if errors.Is(nativeErr, errPermissionDenied) {
				return exitPermissionDenied
			}
			return 1
		}
		return 0
	}
	if nativeErr == nil {
		fmt.Fprintln(stdout, "delivered through: native (UNUserNotificationCenter)")
		return 0
	}
	why := "native: " + nativeErr.Error()
	if errors.Is(nativeErr, errNotBundled) {
		why = "native: not running from Forkwatch.app"
	}
	if d, err := desktop(cfg.Fallback); err == nil {
		if err := d.Post(n); err == nil {
			fmt.Fprintf(stdout, "delivered through: %s (%s)\n", d.Path(), why)
			return 0
		}
	}
	if err := cfg.Fallback.Post(n); err != nil {
		fmt.Fprintf(stderr, "forkwatch notify: not delivered: %v (%s)\n", err, why)
		return 1
	}
	fmt.Fprintf(stdout, "delivered through: %s (%s)\n", cfg.Fallback.Path(), why)
	return 0
}
