package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/internal/jsonfmt"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/spf13/cobra"
)

// statusCmd is `forkwatch status [--json]`.
func (c *cli) statusCmd() *cobra.Command {
	var asJSON, pretty bool
	cmd := &cobra.Command{
		Use:   "status [--json [--pretty]]",
		Short: "the mitigations, read from the system",
		Long: `Show each toggle's state as read back from the system, with conflicts (a later
ulimit -c unlimited, say). A toggle that exists only on macOS says "macOS only" elsewhere.
Exit 0 when every state could be read, 1 when one could not.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pretty && !asJSON {
				return usagef("--pretty indents the JSON: add --json")
			}
			c.code = runStatus(c.ctx, asJSON, pretty, c.stdout, c.stderr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object on one line: toggle name to {on, available, detail, conflicts, error}, schema, export, history")
	cmd.Flags().BoolVar(&pretty, "pretty", false, "with --json: indented over several lines, for reading")
	return cmd
}

func runStatus(ctx context.Context, asJSON, pretty bool, stdout, stderr io.Writer) int {
	env := settings.DefaultEnv()
	// What the profile holds that cannot be used is said below, once, on
	// stdout and in the JSON, not logged.
	pol := policy.Load(slog.New(slog.DiscardHandler))
	all := map[string]any{}
	status := exitOK
	for _, t := range settings.All(env) {
		var st settings.State
		unsupported := env.Supported(t.Name())
		if unsupported != nil {
			// Not asked: the commands it needs are not here.
			st = settings.State{Detail: unsupported.Error()}
		} else {
			st = t.State(ctx)
		}
		ts := policy.NewToggleStatus(st, pol.Get(), t.Name())
		if unsupported != nil {
			ts.Available, ts.Reason = false, unsupported.Error()
		}
		all[t.Name()] = ts
		if st.Error != "" {
			status = exitFailed
		}
		if !asJSON {
			fmt.Fprint(stdout, describeState(t, st))
			if _, ok := pol.Get().Enforced(t.Name()); ok {
				fmt.Fprintf(stdout, "      %s\n", policy.ManagedReason)
			}
		}
	}
	ex := service.ExportStatusOf(ctx, pol.Get())
	source, sourceLines := pol.Source()
	hist, histLine := historyStatus(ctx)
	if asJSON {
		if ex != nil {
			all["export"] = ex
		}
		if source != nil {
			all["managed_settings"] = source
		}
		if hist != nil {
			all["history"] = hist
		}
		var b []byte
		if pretty {
			// The one-line form gets "schema" first from the stamper
			// (stampJSON); the indented form carries it in the object.
			all["schema"] = jsonfmt.Schema
			b, _ = json.MarshalIndent(all, "", "  ")
		} else {
			b, _ = json.Marshal(all) // one object on one line, as every --json
		}
		fmt.Fprintln(stdout, string(b))
		return status
	}
	if ex != nil {
		fmt.Fprintln(stdout, ex.Line)
	}
	if histLine != "" {
		fmt.Fprintln(stdout, histLine)
	}
	for _, l := range sourceLines {
		fmt.Fprintln(stdout, l)
	}
	return status
}

// historyPruned is status's history entry: how many crashes the retention
// has removed, and when it last did.
type historyPruned struct {
	Pruned         int    `json:"pruned"`
	LastPruned     string `json:"last_pruned,omitempty"`
	RecordedBefore string `json:"last_recorded_before,omitempty"`
}

// historyStatus reads what the history's retention removed; nothing when
// there is no history (or one this Forkwatch cannot read yet).
func historyStatus(ctx context.Context) (*historyPruned, string) {
	r, err := history.OpenReader(appinfo.HistoryDBPath(), time.Local)
	if err != nil {
		return nil, ""
	}
	defer r.Close()
	n, last, err := r.PrunedTotal(ctx)
	if err != nil {
		return nil, ""
	}
	h := &historyPruned{Pruned: n}
	line := "history: no crash removed by the retention (crashes recorded in the last year are kept)"
	if n > 0 {
		h.LastPruned, h.RecordedBefore = last.Time.Format(time.RFC3339), last.RecordedBefore.Format(time.RFC3339)
		line = fmt.Sprintf("history: %d %s removed by the retention, the last on %s (%d recorded before %s)",
			n, wording.Plural(n, "crash", "crashes"), last.Time.Format(time.DateOnly), last.Crashes, last.RecordedBefore.Format(time.DateOnly))
	}
	return h, line
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

// setCmd is `forkwatch set NAME on|off`.
func (c *cli) setCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME on|off",
		Short: "turn a mitigation on or off (NAME: " + strings.Join(settings.Names, ", ") + ")",
		Long: `Turn a toggle on or off, then read its state back from the system; the change is
recorded in the history like the menu's. NAME: ` + strings.Join(settings.Names, ", ") + `.
Exit 0 when the system now matches, 1 when it does not, 2 for a bad NAME or value.`,
		Example: "  forkwatch set ulimit-core on\n  forkwatch set login-item off",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("want NAME on|off, got %d %s; NAME: %s", len(args), wording.Plural(len(args), "argument", "arguments"), strings.Join(settings.Names, ", "))
			}
			if args[1] != "on" && args[1] != "off" {
				return usagef("%q is not on or off: say forkwatch set %s on (or off)", args[1], args[0])
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			switch len(args) {
			case 0:
				return settings.Names, cobra.ShellCompDirectiveNoFileComp
			case 1:
				return []string{"on", "off"}, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			env := settings.DefaultEnv()
			t, err := settings.Find(env, args[0])
			if err != nil {
				return usagef("no toggle %q; the toggles are %s", args[0], strings.Join(settings.Names, ", "))
			}
			if err := env.Supported(t.Name()); err != nil {
				return fmt.Errorf("%v; nothing was changed", err)
			}
			if err := policy.Refuse(policy.Load(nil).Get(), t.Name()); err != nil {
				fmt.Fprintln(c.stderr, "forkwatch set:", err)
				c.code = exitFailed
				return nil
			}
			c.code = runSet(c.ctx, env, t, args[1] == "on", appinfo.HistoryDBPath(), c.stdout, c.stderr)
			return nil
		},
	}
}

// runSet sets the toggle, prints the state read back, and records the
// change in the history as the menu does (Controller.toggle).
func runSet(ctx context.Context, env settings.Env, t settings.Toggle, on bool, dbPath string, stdout, stderr io.Writer) int {
	if err := env.MkdirRecorded(appinfo.SupportDir()); err != nil {
		fmt.Fprintln(stderr, "forkwatch set:", err)
		return exitFailed
	}
	unlock, err := settings.Lock(appinfo.SupportDir())
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch set:", err)
		return exitFailed
	}
	defer unlock()
	st, err := settings.SetAndVerify(ctx, t, on)
	fmt.Fprint(stdout, describeState(t, st))
	if err != nil {
		fmt.Fprintf(stderr, "forkwatch set: %s: %v\n", t.Name(), err)
		return exitFailed
	}
	if st.Error == "" && st.On == on {
		if herr := history.RecordToggleAt(dbPath, t.Name(), st.On, st.Detail, time.Now()); herr != nil {
			slog.Warn("history: record toggle", "err", herr)
		}
	}
	return exitOK
}

// uninstallCmd is `forkwatch uninstall`.
func (c *cli) uninstallCmd() *cobra.Command {
	var stop bool
	cmd := &cobra.Command{
		Use:   "uninstall [--stop]",
		Short: "turn everything off, remove what Forkwatch created",
		Long: `Turn every toggle off and remove what Forkwatch created (its support and log folders,
its LaunchAgents and LaunchDaemon, the marked blocks in shell start-up files, the fork tracers),
and nothing else. Toggles that exist only on macOS are skipped elsewhere.
While Forkwatch runs (the app or watch) it refuses, naming the pid, and removes nothing:
the running one would go on printing crashes it no longer records. --stop stops it first
(SIGTERM, the clean stop, then waits up to 15s for it to let go).`,
		Example: "  forkwatch uninstall\n  forkwatch uninstall --stop",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			release, ok := holdForUninstall(c.ctx, stop, c.stdout, c.stderr)
			if !ok {
				c.code = exitFailed
				return nil
			}
			defer release()
			c.code = runUninstall(c.ctx, c.stdout, c.stderr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&stop, "stop", false, "stop a running Forkwatch (the app or watch) first")
	return cmd
}

// uninstallStopBound is how long `uninstall --stop` waits for the running
// Forkwatch to let go of the lock after SIGTERM.
const uninstallStopBound = 15 * time.Second

// holdForUninstall takes the one-instance lock for the uninstall, so that
// no Forkwatch records into the folders being removed: a running one is
// refused (naming its pid) or, with --stop, stopped cleanly first. On
// failure it has said why.
func holdForUninstall(ctx context.Context, stop bool, stdout, stderr io.Writer) (func(), bool) {
	support := appinfo.SupportDir()
	release, pid, err := appinfo.HoldInstance(support)
	if err == nil {
		return release, true
	}
	if !errors.Is(err, appinfo.ErrAlreadyRunning) {
		fmt.Fprintln(stderr, "forkwatch uninstall:", err)
		return nil, false
	}
	if !stop {
		fmt.Fprintf(stderr, "forkwatch uninstall: Forkwatch is %v; nothing was removed. Quit it first (Quit in the menu, Ctrl-C in its terminal) or run forkwatch uninstall --stop\n", err)
		return nil, false
	}
	fmt.Fprintf(stdout, "stopping Forkwatch (pid %d)\n", pid)
	release, err = appinfo.StopInstance(ctx, support, pid, uninstallStopBound)
	if err != nil {
		fmt.Fprintf(stderr, "forkwatch uninstall: %v; nothing was removed\n", err)
		return nil, false
	}
	fmt.Fprintf(stdout, "stopped Forkwatch (pid %d)\n", pid)
	return release, true
}

// runUninstall turns every toggle off, then removes what Forkwatch created:
// its files and folders (settings.Uninstall), its state and log folders. It
// touches nothing else.
func runUninstall(ctx context.Context, stdout, stderr io.Writer) int {
	// The fork tracers first: their registry lives in the support folder
	// that settings.Uninstall removes.
	removed, terr := service.TraceManager().UninstallAll(ctx)
	for _, p := range removed {
		fmt.Fprintln(stdout, "removed", p)
	}
	if terr != nil {
		fmt.Fprintln(stderr, "forkwatch uninstall: fork tracers:", terr)
	}
	err := settings.Uninstall(ctx, settings.DefaultEnv(), stdout, appinfo.LogDir(), appinfo.SupportDir())
	if err == nil && terr != nil {
		return exitFailed
	}
	if err != nil {
		fmt.Fprintln(stderr, "forkwatch uninstall:", oneLine(err.Error()))
		return exitFailed
	}
	return exitOK
}
