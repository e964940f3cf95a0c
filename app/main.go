// Command forkwatch watches macOS crash reports and core files for Python
// processes killed after fork(), and turns the known mitigations on and off.
//
//	forkwatch                      the menu-bar app
//	forkwatch inspect [--json] FILE...
//	forkwatch watch [--json] [--notify] [--reports-dir DIR]... [--cores-dir DIR] [--state FILE]
//	forkwatch status [--json]
//	forkwatch set NAME on|off
//	forkwatch uninstall
//	forkwatch doctor [--json] [--probe] [--python PATH]...
//	forkwatch history [--json] [--since 7d] [--by day|cause|program|project] [--page]
//	forkwatch trace enable|disable|status ...
//	forkwatch notify --test [--quiet]
//	forkwatch debug [--open|--exec] [--exe PATH] REPORT|CORE
//	forkwatch --version
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `usage:
  forkwatch [--reports-dir DIR]... [--cores-dir DIR] [--state FILE]   menu-bar app
  forkwatch inspect [--json] FILE...                                   classify crash reports
  forkwatch watch [--json] [--notify] [--reports-dir DIR]... [--cores-dir DIR] [--state FILE]
  forkwatch status [--json]                                            the mitigations, read from the system
  forkwatch set NAME on|off                                            NAME: ulimit-core, coredump-off, fork-safety-off, login-item
  forkwatch uninstall                                                  turn everything off, remove what Forkwatch created
  forkwatch doctor [--json] [--probe] [--python PATH]... [--html FILE] check this Mac: interpreters, core files, fork safety
  forkwatch history [--json] [--since 7d|DATE] [--by day|cause|program|project|runtime] [--runtime R] [--page]
  forkwatch trace enable|disable PYTHON|VENV, trace status [--json]   opt-in fork tracing (the line of Python that forked)
  forkwatch notify --test [--quiet]                                    post a test notification, say which path delivered it
  forkwatch debug [--open|--exec] [--exe PATH] REPORT|CORE            the lldb command for a crash report or core file
  forkwatch --version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process exit, so tests can call it. Exit codes:
// 0 done, 1 failed, 2 usage error.
func run(args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "watch":
		return runWatch(ctx, args[1:], stdout, stderr)
	case "status":
		return runStatus(ctx, args[1:], stdout, stderr)
	case "set":
		return runSet(ctx, args[1:], stdout, stderr)
	case "uninstall":
		return runUninstall(ctx, args[1:], stdout, stderr)
	case "doctor":
		return runDoctor(ctx, args[1:], stdout, stderr)
	case "history":
		return runHistory(ctx, args[1:], stdout, stderr)
	case "trace":
		return runTrace(ctx, args[1:], stdout, stderr)
	case "notify":
		return runNotify(ctx, args[1:], stdout, stderr)
	case "debug":
		return runDebug(ctx, args[1:], stdout, stderr)
	case "--version", "-version", "version":
		fmt.Fprintf(stdout, "forkwatch %s\n", appVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "":
		return runApp(ctx, nil, stdout, stderr)
	default:
		if len(cmd) > 0 && cmd[0] == '-' {
			return runApp(ctx, args, stdout, stderr)
		}
		fmt.Fprintf(stderr, "forkwatch: unknown command %q\n%s", cmd, usage)
		return 2
	}
}

func logLevel() slog.Level {
	if os.Getenv("FORKWATCH_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
