package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/jsonfmt"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// arity is how many arguments each command takes (max -1: any number). A
// command the table does not know fails the test, so that a new one gets
// its row and its exit codes checked.
var arity = map[string][2]int{
	"forkwatch":                       {0, 0},
	"forkwatch inspect":               {1, -1},
	"forkwatch watch":                 {0, 0},
	"forkwatch status":                {0, 0},
	"forkwatch set":                   {2, 2},
	"forkwatch uninstall":             {0, 0},
	"forkwatch doctor":                {0, 0},
	"forkwatch history":               {0, 0},
	"forkwatch trace":                 {1, 1},
	"forkwatch trace enable":          {1, 1},
	"forkwatch trace disable":         {1, 1},
	"forkwatch trace status":          {0, -1},
	"forkwatch trace show":            {1, 1},
	"forkwatch trace sweep":           {0, 0},
	"forkwatch notify":                {0, 0},
	"forkwatch debug":                 {1, 1},
	"forkwatch check":                 {0, 1},
	"forkwatch version":               {0, 0},
	"forkwatch completion":            {1, 1},
	"forkwatch completion bash":       {0, 0},
	"forkwatch completion zsh":        {0, 0},
	"forkwatch completion fish":       {0, 0},
	"forkwatch completion powershell": {0, 0},
}

// conflicts are flag combinations that make no sense together beyond
// cobra's mutually exclusive groups (which the walk finds by itself).
var conflicts = [][]string{
	{"history", "--page", "--json"},
	{"history", "--page", "--by", "day"},
	{"history", "--out", "x.html"},
	{"debug", "--open", "--exec", "r.ips"},
	{"completion", "tcsh"},
	{"status", "--pretty"},
}

// TestExitCodesEveryCommand walks the cobra tree: for every command, an
// unknown flag, a missing flag value, too many or too few arguments and
// conflicting flags are usage errors (exit 2) with one line on stderr
// naming the command; the help of every command but the app itself says
// nothing of exit 3. Issue 32: conflicting history flags exited 1,
// `completion tcsh` printed help and exited 0.
func TestExitCodesEveryCommand(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("PATH", filepath.Join(home, "bin"))
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	exec := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		c := &cli{ctx: context.Background(), stdout: &out, stderr: &errb}
		return c.execute(args), out.String(), errb.String()
	}
	wantUsage := func(args ...string) {
		t.Helper()
		code, out, errs := exec(args...)
		if code != exitUsage {
			t.Errorf("forkwatch %s: exit %d, want 2 (usage)\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, firstLines(out), firstLines(errs))
			return
		}
		if n := strings.Count(strings.TrimSpace(errs), "\n"); n > 0 || !strings.HasPrefix(errs, "forkwatch") {
			t.Errorf("forkwatch %s: the usage error is not one line naming the command: %q", strings.Join(args, " "), errs)
		}
	}
	root := newRootCmd(&cli{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	seen := map[string]bool{}
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		p := cmd.CommandPath()
		if cmd.Name() == "help" {
			return
		}
		seen[p] = true
		checkUsage(t, cmd, wantUsage, exec)
		for _, s := range cmd.Commands() {
			walk(s)
		}
	}
	walk(root)
	for p := range arity {
		if !seen[p] {
			t.Errorf("arity names %q, which is not a command", p)
		}
	}
	if _, out, _ := exec("--help"); !strings.Contains(out, "3 the menu-bar app found no desktop") {
		t.Errorf("forkwatch --help lacks exit 3:\n%s", out)
	}
	for _, c := range conflicts {
		wantUsage(c...)
	}
	if _, err := os.Stat(filepath.Join(home, ".config")); err == nil {
		t.Error("a usage error created the support folder")
	}
}

// checkUsage runs one command with an unknown flag, a missing flag value,
// too many and too few arguments and each mutually exclusive flag group:
// each must be a usage error.
func checkUsage(t *testing.T, cmd *cobra.Command, wantUsage func(...string), exec func(...string) (int, string, string)) {
	p := cmd.CommandPath()
	path := strings.Fields(p)[1:]
	a, known := arity[p]
	if !known {
		t.Errorf("%q: no row in arity; give the new command one", p)
	}
	valid := make([]string, a[0])
	for i := range valid {
		valid[i] = "arg"
	}
	with := func(extra ...string) []string {
		return append(append(append([]string(nil), path...), extra...), valid...)
	}
	wantUsage(with("--no-such-flag")...)
	if a[1] >= 0 {
		wantUsage(append(with(), "extra", "arguments")[:len(path)+a[1]+1]...)
	}
	if a[0] > 0 {
		wantUsage(path...)
	}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.NoOptDefVal == "" && f.Value.Type() != "bool" && f.Name != "help" {
			// The value left off at the end: "flag needs an argument".
			wantUsage(append(append(append([]string(nil), path...), valid...), "--"+f.Name)...)
		}
		if group := f.Annotations["cobra_annotation_mutually_exclusive"]; len(group) > 0 {
			for _, g := range group {
				var args []string
				for _, name := range strings.Split(g, " ") {
					args = append(args, "--"+name)
					if fl := cmd.Flags().Lookup(name); fl.Value.Type() != "bool" {
						args = append(args, "1")
					}
				}
				wantUsage(with(args...)...)
			}
		}
	})
	if cmd.HasParent() {
		_, out, _ := exec(append(path, "--help")...)
		if strings.Contains(out, "3 the menu-bar app") || strings.Contains(out, "exit 3: the menu-bar") {
			t.Errorf("%s --help speaks of the app's exit 3:\n%s", p, out)
		}
	}
}

func firstLines(s string) string {
	l := strings.SplitN(s, "\n", 4)
	return strings.Join(l[:min(3, len(l))], "\n")
}

// unmarshalStatus reads `status --json`: the toggles (and export, history)
// by name, without the format's version.
func unmarshalStatus(b []byte, m *map[string]map[string]any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if string(raw["schema"]) != strconv.Itoa(jsonfmt.Schema) {
		return fmt.Errorf("status --json: schema %s, want %d", raw["schema"], jsonfmt.Schema)
	}
	delete(raw, "schema")
	*m = map[string]map[string]any{}
	for k, v := range raw {
		var o map[string]any
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("status --json: %s: %w", k, err)
		}
		(*m)[k] = o
	}
	return nil
}
