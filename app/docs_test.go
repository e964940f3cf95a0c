package main

// The README's command list and JSON field lists, checked against the
// command tree and the types the commands encode, so that docs and output
// cannot drift apart silently.

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/project"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/doctor"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonKeys returns the top-level JSON keys of t (embedded structs
// flattened, as encoding/json does) and every key at any depth.
func jsonKeys(t reflect.Type) (top, all map[string]bool) {
	top, all = map[string]bool{}, map[string]bool{}
	var walk func(t reflect.Type, into map[string]bool, depth int)
	walk = func(t reflect.Type, into map[string]bool, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 6 {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name := strings.Split(tag, ",")[0]
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			if f.Anonymous && name == "" {
				walk(f.Type, into, depth)
				continue
			}
			if name == "" {
				name = f.Name
			}
			into[name] = true
			all[name] = true
			walk(f.Type, all, depth+1)
		}
	}
	walk(t, top, 0)
	return top, all
}

// documented returns the backticked names in the paragraph after the
// marker <!-- json: NAME -->.
func documented(t *testing.T, doc, name string) map[string]bool {
	t.Helper()
	marker := "<!-- json: " + name + " -->"
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("README has no %s", marker)
	}
	para := doc[i+len(marker):]
	if j := strings.Index(para, "\n\n"); j >= 0 {
		para = para[:j]
	}
	if j := strings.Index(para, "<!-- json:"); j >= 0 {
		para = para[:j]
	}
	out := map[string]bool{}
	// `name` and "name" (inside a JSON-like `{"kind","path",…}`).
	for _, m := range regexp.MustCompile("[`\"]([a-z][a-z0-9_]*)[`\"]").FindAllStringSubmatch(para, -1) {
		out[m[1]] = true
	}
	return out
}

func TestReadmeJSONFields(t *testing.T) {
	doc := readme(t)
	type shape struct {
		doc   string
		types []any
		extra []string // keys written by hand, outside any struct
	}
	var inspect inspectLine
	shapes := []shape{
		{"inspect", []any{inspect, report.Report{}}, nil},
		{"watch", []any{report.Report{}, report.CoreFile{}, monitor.RiskyFork{}}, []string{"kind", "history", "core", "path", "error", "process", "note", "time", "crashes", "recorded_before", "waiting", "pruned"}},
		{"status", []any{settings.State{}, policy.ToggleStatus{}, service.ExportStatus{}, historyPruned{}, policy.SourceStatus{}}, []string{"export", "history", "managed_settings"}},
		{"check", []any{project.Finding{}, project.Skip{}}, []string{"kind", "at_risk", "meaning", "dir", "findings", "versions", "exit"}},
		{"history", []any{report.Report{}, history.Day{}}, []string{"seen", "count", "last", "cause", "program", "project"}},
		{"trace status", []any{forktrace.Entry{}}, nil},
		{"doctor interpreter", []any{doctor.Interpreter{}}, []string{"kind", "runtime"}},
		{"doctor core_system", []any{doctor.CoreSystem{}}, nil},
		{"doctor fork_safety", []any{doctor.ForkSafety{}}, nil},
	}
	for _, s := range shapes {
		top, all := map[string]bool{}, map[string]bool{}
		for _, v := range s.types {
			tp, al := jsonKeys(reflect.TypeOf(v))
			for k := range tp {
				top[k] = true
			}
			for k := range al {
				all[k] = true
			}
		}
		for _, k := range s.extra {
			top[k], all[k] = true, true
		}
		docs := documented(t, doc, s.doc)
		if s.doc == "watch" || s.doc == "history" {
			// "…the inspect fields…"
			for k := range documented(t, doc, "inspect") {
				docs[k] = true
			}
			if s.doc == "history" {
				delete(docs, "error") // inspect's line for an unreadable file
			}
		}
		var missing, unknown []string
		for k := range top {
			if !docs[k] {
				missing = append(missing, k)
			}
		}
		for k := range docs {
			if !all[k] && !knownValue[k] {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(unknown)
		if len(missing) > 0 {
			t.Errorf("%s --json: the README does not document %v", s.doc, missing)
		}
		if len(unknown) > 0 {
			t.Errorf("%s --json: the README documents %v, which the output does not have", s.doc, unknown)
		}
	}
}

// knownValue are backticked words in the field lists that are values or
// names, not keys (`ips`, `enabled`, a cause's name).
var knownValue = map[string]bool{
	"ips": true, "crash": true, "enabled": true, "disabled": true, "partial": true, "other": true, "gone": true,
	"core_system": true, "fork_safety": true, "interpreter": true, "homebrew": true, "pyenv": true,
	"watch": true, // "(the parent is read only by `watch`)"
	// event and line kinds (watch's risky_fork, check's lines)
	"risky_fork": true, "finding": true, "skipped": true, "summary": true,
	// runtime values and framework_evidence kinds
	"ruby": true, "php": true, "perl": true, "node": true, "tracer": true,
}

// TestReadmeJSONMatchesOutput: the keys a real command prints are the ones
// the README lists (the reflection above, checked against real output).
func TestReadmeJSONMatchesOutput(t *testing.T) {
	t.Parallel()
	doc := readme(t)
	env := testEnv(t)
	out, _, _ := runSplit(t, env, "inspect", "--json", sample("python39-rq-objc-fork-django-rq-574.ips"), sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), "/no/such.ips")
	checkLines(t, "inspect", out, documented(t, doc, "inspect"))
	out, _, _ = runSplit(t, env, "status", "--json")
	var st map[string]map[string]any
	if err := unmarshalStatus([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	docs := documented(t, doc, "status")
	for name, v := range st {
		for k := range v {
			if !docs[k] {
				t.Errorf("status --json %s has undocumented %q", name, k)
			}
		}
	}
	out, _, _ = runSplit(t, env, "trace", "status", "--json")
	checkLines(t, "trace status", out, documented(t, doc, "trace status"))
}

func checkLines(t *testing.T, what, out string, docs map[string]bool) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: %v: %s", what, err, l)
		}
		for k := range m {
			// "schema" is every line's, documented once under JSON output.
			if !docs[k] && k != "schema" {
				t.Errorf("%s --json prints undocumented %q", what, k)
			}
		}
	}
}

// readmeCommands is the code block of the README's Commands section.
func readmeCommands(t *testing.T) []string {
	doc := readme(t)
	i := strings.Index(doc, "## Commands")
	if i < 0 {
		t.Fatal("README has no ## Commands")
	}
	block := doc[i:]
	a := strings.Index(block, "```\n")
	b := strings.Index(block[a+4:], "```")
	var lines []string
	for _, l := range strings.Split(block[a+4:a+4+b], "\n") {
		if strings.HasPrefix(l, "forkwatch") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestReadmeCommands: every command of the tree has its line in the
// README, every visible flag is on a line of its command, and the README
// names no command or flag the tree lacks; the hidden tuning flags are
// documented below the list.
func TestReadmeCommands(t *testing.T) {
	t.Parallel()
	lines := readmeCommands(t)
	root := newRootCmd(&cli{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd() // cobra adds these when it executes
	byPath := map[string][]string{} // command path -> its README lines
	for _, l := range lines {
		words := strings.Fields(l)
		path := []string{"forkwatch"}
		for _, w := range words[1:] {
			if !regexp.MustCompile(`^[a-z]+$`).MatchString(w) {
				break
			}
			path = append(path, w)
		}
		// "completion zsh|bash|fish": the shells are arguments.
		p := strings.Join(path, " ")
		byPath[p] = append(byPath[p], l)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || (c.Parent() != nil && c.Parent().Name() == "completion") {
			return
		}
		got := byPath[c.CommandPath()]
		if len(got) == 0 && c.Name() == "trace" {
			// A group: its lines are its subcommands'.
			for _, s := range c.Commands() {
				walk(s)
			}
			return
		}
		if len(got) == 0 {
			t.Errorf("README lacks a line for %q", c.CommandPath())
		}
		joined := strings.Join(got, "\n")
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" || f.Name == "version" {
				return
			}
			if !strings.Contains(joined, "--"+f.Name) {
				t.Errorf("README's %q lines lack --%s", c.CommandPath(), f.Name)
			}
		})
		for _, m := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(joined, -1) {
			// A command that parses its own flags (DisableFlagParsing) is left to its own help.
			if m[1] != "version" && !c.DisableFlagParsing && c.Flags().Lookup(m[1]) == nil {
				t.Errorf("README names --%s for %q, which has no such flag", m[1], c.CommandPath())
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	for p := range byPath {
		words := strings.Fields(p)[1:]
		if c, rest, err := root.Find(words); err != nil || len(rest) > 0 || c.CommandPath() != p {
			t.Errorf("README lists %q, which is not a command", p)
		}
	}
	doc := readme(t)
	for _, name := range []string{"watch", "forkwatch"} {
		cmd := root
		if name == "watch" {
			cmd, _, _ = root.Find([]string{"watch"})
		}
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden && !strings.Contains(doc, "`--"+f.Name) {
				t.Errorf("hidden flag --%s of %s is not documented in the README", f.Name, name)
			}
		})
	}
}
