package notify

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// RunTest is `forkwatch notify --test [--quiet]` (its arguments as given,
// parsed here so that its tests can call it) with its dependencies: the
// native configuration (AppConfig in the app) and the Linux desktop's
// notifier (NewDesktopActionNotifier). It posts a test notification and
// prints which path delivered it. With --quiet it prints nothing and
// succeeds only if the native path delivered: it is the child the app runs
// once per version before trusting that path in its own process (see
// native.go). Exit codes: 0 delivered, 1 not delivered (or, with --quiet,
// not natively), 2 usage, 3 (--quiet) the permission prompt is still
// unanswered, 4 (--quiet) notifications are denied.
func RunTest(ctx context.Context, args []string, stdout, stderr io.Writer, cfg NativeConfig, desktop func(ActionNotifier) (ActionNotifier, error)) int {
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
	nativeErr := NativeTest(ctx, cfg, n)
	if *quiet {
		if nativeErr != nil {
			fmt.Fprintln(stderr, "forkwatch notify:", nativeErr)
			if errors.Is(nativeErr, ErrPermissionPending) {
				return ExitPermissionPending
			}
			if errors.Is(nativeErr, ErrPermissionDenied) {
				return ExitPermissionDenied
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
	if errors.Is(nativeErr, ErrNotBundled) {
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
