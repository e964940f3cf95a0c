package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/forkwatch/forkwatch/settings"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	env := settings.DefaultEnv()
	pol := loadPolicy(slog.New(slog.NewTextHandler(stderr, nil)))
	all := map[string]any{}
	status := 0
	for _, t := range settings.All(env) {
		st := t.State(ctx)
		all[t.Name()] = newToggleStatus(st, pol.get(), t.Name())
		if st.Error != "" {
			status = 1
		}
		if !*asJSON {
			fmt.Fprint(stdout, describeState(t, st))
			if _, ok := pol.get().Enforced(t.Name()); ok {
				fmt.Fprintf(stdout, "      %s\n", ManagedReason)
			}
		}
	}
	ex := exportStatusOf(ctx, pol.get())
	if *asJSON {
		if ex != nil {
			all["export"] = ex
		}
		b, _ := json.MarshalIndent(all, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else if ex != nil {
		fmt.Fprintln(stdout, ex.Line)
	}
	return status
}

func describeState(t settings.Toggle, st settings.State) string {
	mark := "[ ]"
	if st.On {
		mark = "[x]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-16s %s\n", mark, t.Name(), t.Label())
	if st.Detail != "" {
		fmt.Fprintf(&b, "      %s\n", st.Detail)
	}
	for _, c := range st.Conflicts {
		fmt.Fprintf(&b, "      conflict: %s\n", c)
	}
	if st.Error != "" {
		fmt.Fprintf(&b, "      error: %s\n", st.Error)
	}
	return b.String()
}

func runSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || (args[1] != "on" && args[1] != "off") {
		fmt.Fprintf(stderr, "usage: forkwatch set NAME on|off\n  NAME: %s\n", strings.Join(settings.Names, ", "))
		return 2
	}
	env := settings.DefaultEnv()
	t, err := settings.Find(env, args[0])
	if err != nil {
		fmt.Fprintln(stderr, "set:", err)
		return 2
	}
	if err := refuseManaged(loadPolicy(nil).get(), t.Name()); err != nil {
		fmt.Fprintln(stderr, "set:", err)
		return 1
	}
	if err := env.MkdirRecorded(supportDir()); err != nil {
		fmt.Fprintln(stderr, "set:", err)
		return 1
	}
	unlock, err := settings.Lock(supportDir())
	if err != nil {
		fmt.Fprintln(stderr, "set:", err)
		return 1
	}
	defer unlock()
	st, err := settings.SetAndVerify(ctx, t, args[1] == "on")
	fmt.Fprint(stdout, describeState(t, st))
	if err != nil {
		fmt.Fprintln(stderr, "set:", err)
		return 1
	}
	return 0
}

// runUninstall turns every toggle off, then removes what Forkwatch created:
// its files and folders (settings.Uninstall), its state and log folders. It
// touches nothing else.
func runUninstall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: forkwatch uninstall")
		return 2
	}
	// The fork tracers first: their registry lives in the support folder
	// that settings.Uninstall removes.
	removed, terr := traceManager().UninstallAll(ctx)
	for _, p := range removed {
		fmt.Fprintln(stdout, "removed", p)
	}
	if terr != nil {
		fmt.Fprintln(stderr, "uninstall: fork tracers:", terr)
	}
	err := settings.Uninstall(ctx, settings.DefaultEnv(), stdout, logDir(), supportDir())
	if err == nil && terr != nil {
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "uninstall:", err)
		return 1
	}
	return 0
}
