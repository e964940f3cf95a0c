// Command forkwatch watches macOS crash reports and core files for Python
// processes killed after fork(), and turns the known mitigations on and off.
// `forkwatch` alone is the menu-bar app; `forkwatch help` lists the
// subcommands (the tree is built in cli.go, one function per command).
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process exit, so tests can call it. It builds
// the command tree (cli.go) and returns the exit code: 0 done, 1 failed,
// 2 usage error, 3 no desktop for the app.
func run(args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr}
	return c.execute(args)
}

func logLevel() slog.Level {
	if os.Getenv("FORKWATCH_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
