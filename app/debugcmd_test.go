package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/lldb"
	"github.com/forkwatch/forkwatch/internal/lldbarg"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// fakeLLDB is an lldb that records its argv as JSON and, for each "-o
// crashlog ..." command, what lldb's crashlog module would read: its
// argument split with Python's shlex.split (crashlog.py does exactly that)
// and whether each word is an existing file. It needs python3.
const fakeLLDB = `#!/usr/bin/env python3
import json, os, shlex, sys
args = sys.argv[1:]
crashlog = []
for i, a in enumerate(args):
    if i > 0 and args[i-1] == "-o" and a.startswith("crashlog "):
        words = shlex.split(a[len("crashlog "):])
        crashlog.append([{"word": w, "file": os.path.isfile(w)} for w in words])
with open(os.environ["LLDB_LOG"], "a") as f:
    f.write(json.dumps({"argv": sys.argv, "crashlog": crashlog}) + "\n")
`

type lldbCall struct {
	Argv     []string `json:"argv"`
	Crashlog [][]struct {
		Word string `json:"word"`
		File bool   `json:"file"`
	} `json:"crashlog"`
}

// runDebugArgs is `forkwatch debug ARGS...` through the command tree.
func runDebugArgs(args []string, stdout, stderr io.Writer) int {
	c := &cli{ctx: context.Background(), stdout: stdout, stderr: stderr}
	return c.execute(append([]string{"debug"}, args...))
}

// machoCore is the start of a macOS core file: a 64-bit Mach-O header
// (magic 0xfeedfacf, little-endian) for arm64 (CPU_TYPE_ARM64 0x0100000c)
// of file type MH_CORE (4), <mach-o/loader.h>; the rest does not matter
// to the plan.
func machoCore() []byte {
	h := make([]byte, 64)
	binary.LittleEndian.PutUint32(h[0:], 0xfeedfacf)
	binary.LittleEndian.PutUint32(h[4:], 0x0100000c)
	binary.LittleEndian.PutUint32(h[12:], 4)
	return h
}

// installFakeLLDB puts the fake lldb first on PATH and returns a reader of
// its calls.
func installFakeLLDB(t *testing.T) func() []lldbCall {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("the fake lldb needs python3")
	}
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "lldb.log")
	if err := os.WriteFile(filepath.Join(bin, "lldb"), []byte(fakeLLDB), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("LLDB_LOG", log)
	return func() []lldbCall {
		data, _ := os.ReadFile(log)
		var out []lldbCall
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line == "" {
				continue
			}
			var c lldbCall
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("lldb log %q: %v", line, err)
			}
			out = append(out, c)
		}
		os.Remove(log)
		return out
	}
}

// TestDebugReportHostileNames: `forkwatch debug --exec REPORT` runs lldb
// with crashlog on the report, for report names with spaces, quotes, a
// leading dash and a newline: lldb's argv is exactly the plan's, and the
// crashlog command, split as crashlog splits it, names the one report
// (through a plain link for the newline).
func TestDebugReportHostileNames(t *testing.T) {
	calls := installFakeLLDB(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	data, err := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "Crash Reports")
	os.MkdirAll(dir, 0o755)
	t.Chdir(dir)
	names := []string{
		"Python 2020-07-17 with spaces.crash",
		`it's a "quoted" $(touch pwned) report.crash`,
		"-rf --help.crash",
		"new\nline.crash",
		"back\\slash;semi|pipe&amp*.crash",
	}
	for _, name := range names {
		t.Run(strings.ReplaceAll(name, "\n", `\n`), func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			arg := p
			if strings.HasPrefix(name, "-") {
				arg = "./" + name // as a person types it; the flag parser would read "-rf" otherwise
			}
			var out, errb strings.Builder
			code := runDebugArgs([]string{"--exec", arg}, &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			got := calls()
			if len(got) != 1 {
				t.Fatalf("lldb ran %d times", len(got))
			}
			c := got[0]
			if len(c.Argv) != 5 || filepath.Base(c.Argv[0]) != "lldb" || c.Argv[1] != "-o" || c.Argv[2] != lldb.CrashlogImport || c.Argv[3] != "-o" || !strings.HasPrefix(c.Argv[4], "crashlog ") {
				t.Fatalf("argv %q", c.Argv)
			}
			if len(c.Crashlog) != 1 || len(c.Crashlog[0]) != 1 || !c.Crashlog[0][0].File {
				t.Fatalf("crashlog would read %+v, want the one report", c.Crashlog)
			}
			w := c.Crashlog[0][0].Word
			real, _ := filepath.EvalSymlinks(w)
			if real != p {
				t.Errorf("crashlog reads %q (-> %q), want %q", w, real, p)
			}
			if lldbarg.Plain(p) != (w == p) {
				t.Errorf("a name lldb cannot take goes through a link, others as they are: %q", w)
			}
			if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
				t.Error("a shell ran the file name")
			}
			// The printed command, pasted into a shell, is the same argv.
			line := strings.SplitN(out.String(), "\n", 2)[0]
			if !strings.Contains(name, "\n") {
				echo, err := exec.Command("sh", "-c", "set -- "+line+"; for a in \"$@\"; do printf '%s\\0' \"$a\"; done").Output()
				if err != nil {
					t.Fatalf("printed line %q is not valid sh: %v", line, err)
				}
				words := strings.Split(strings.TrimSuffix(string(echo), "\x00"), "\x00")
				if strings.Join(words, "|") != strings.Join(append([]string{"lldb"}, c.Argv[1:]...), "|") {
					t.Errorf("printed %q reads back as %q", line, words)
				}
			}
		})
	}
}

// TestDebugCore: a core file gets lldb --core CORE --file EXE with the
// executable of the crash report of the same pid in the history; without a
// history entry lldb gets the core alone and the output says how to name
// the executable; --exe names it.
func TestDebugCore(t *testing.T) {
	calls := installFakeLLDB(t)
	t.Setenv("HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "cores 'dir'")
	os.MkdirAll(dir, 0o755)
	core := filepath.Join(dir, "core.4242")
	os.WriteFile(core, machoCore(), 0o400)
	exe := filepath.Join(t.TempDir(), "ruby 3.3", "bin", "ruby")
	os.MkdirAll(filepath.Dir(exe), 0o755)
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	db := filepath.Join(t.TempDir(), "history.db")
	d, err := history.Open(db, history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	d.MarkSeen(&report.Report{ID: "incident:core", Process: "ruby", PID: 4242, ExePath: exe, Runtime: report.RuntimeRuby,
		Cause: report.CauseForkSafety, ForkChild: true, Time: now.Format(time.RFC3339), Path: "/r/ruby-2026.ips"}, now)
	d.MarkSeen(&report.Report{ID: "incident:other", Process: "ruby", PID: 4242, ExePath: "/old/ruby", Cause: report.CauseCrash,
		Time: now.Add(-48 * time.Hour).Format(time.RFC3339)}, now)
	if err := d.RecordCore(report.CoreFile{Path: core, PID: 4242, Size: 64, Complete: true}, now); err != nil {
		t.Fatal(err)
	}
	d.Close()

	var out, errb strings.Builder
	if code := runDebugArgs([]string{"--exec", "--db", db, core}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := calls()
	want := []string{"lldb", "--core", core, "--file", exe}
	if len(got) != 1 || len(got[0].Argv) != len(want) {
		t.Fatalf("lldb argv %+v, want %q", got, want)
	}
	for i, a := range got[0].Argv[1:] {
		// The core's folder has a quote in its name: lldb gets a plain link.
		if real, _ := filepath.EvalSymlinks(a); a != want[i+1] && real != want[i+1] {
			t.Errorf("lldb argv %q, want %q (through plain links)", got[0].Argv, want)
		}
	}
	if !strings.Contains(out.String(), "/r/ruby-2026.ips") {
		t.Errorf("output does not say where the executable came from:\n%s", out.String())
	}

	out.Reset()
	if code := runDebugArgs([]string{"--db", filepath.Join(t.TempDir(), "none.db"), core}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "--exe PATH") || strings.Contains(out.String(), "--file") {
		t.Errorf("without history:\n%s", out.String())
	}
	if calls() != nil {
		t.Error("lldb ran without --exec")
	}
	out.Reset()
	if code := runDebugArgs([]string{"--json", "--exe", exe, "--db", filepath.Join(t.TempDir(), "none.db"), core}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var plan lldb.Plan
	if err := json.Unmarshal([]byte(strings.SplitN(out.String(), "\n", 2)[0]), &plan); err != nil || plan.Kind != "core" || plan.Argv[len(plan.Argv)-1] != exe {
		t.Errorf("--json --exe: %v %+v", err, plan)
	}
}

// TestDebugRefuses: lldb is never pointed at a file that is not a regular
// file, that others can write, or that belongs to someone else outside the
// watched folders; a plan that is not Forkwatch's own is not run.
func TestDebugRefuses(t *testing.T) {
	calls := installFakeLLDB(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	dir := t.TempDir()
	data, _ := os.ReadFile(sample("sentry-cli-objc-fork-sentry-23823.crash"))
	shared := filepath.Join(dir, "shared.crash")
	os.WriteFile(shared, data, 0o600)
	os.Chmod(shared, 0o666)
	fifo := filepath.Join(dir, "fifo.crash")
	syscall.Mkfifo(fifo, 0o600)
	theirs := filepath.Join(dir, "theirs.crash")
	os.WriteFile(theirs, data, 0o600)
	cases := map[string]string{shared: "writable by others", fifo: "not a regular file", dir: "not a regular file", filepath.Join(dir, "missing.crash"): "no such file"}
	if os.Getuid() == 0 {
		os.Chown(theirs, 65534, 65534)
		cases[theirs] = "not yours"
	}
	for p, want := range cases {
		var out, errb strings.Builder
		if code := runDebugArgs([]string{"--exec", p}, &out, &errb); code != 1 || !strings.Contains(errb.String(), want) {
			t.Errorf("%s: exit %d, %q (want %q)", p, code, errb.String(), want)
		}
	}
	// Plans: only Forkwatch's own, 0600, in its private folder.
	pd, err := lldb.Dir()
	if err != nil {
		t.Fatal(err)
	}
	planDir := pd.Path()
	pd.Close()
	js := []byte(`{"kind":"report","argv":["lldb","-o","crashlog /x"]}`)
	outside := filepath.Join(dir, "lldb-x.command.plan")
	os.WriteFile(outside, js, 0o600)
	loose := filepath.Join(planDir, "lldb-y.command.plan")
	os.WriteFile(loose, js, 0o644)
	os.Chmod(loose, 0o644)
	for _, p := range []string{outside, loose} {
		var out, errb strings.Builder
		if code := runDebugArgs([]string{"--exec-plan", p}, &out, &errb); code != 1 {
			t.Errorf("plan %s: exit %d", p, code)
		}
	}
	if calls() != nil {
		t.Error("lldb ran for a refused file or plan")
	}
	if fi, err := os.Stat(planDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("debug folder mode: %v %v", fi, err)
	}
}

// TestDebugOpenInTerminal: on macOS --open writes a .command file and a
// plan and runs `open -a Terminal FILE` (a fake open here, which then runs
// the file with /bin/sh as Terminal would): the .command file holds no
// report text, execs the real forkwatch binary with --exec-plan, and lldb
// gets exactly the plan's argv; the plan is used once. On Linux --open
// only prints.
func TestDebugOpenInTerminal(t *testing.T) {
	calls := installFakeLLDB(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	bin := forkwatchBin(t)
	fakeBin := t.TempDir()
	openLog := filepath.Join(t.TempDir(), "open.log")
	// The fake open records its argv, one per line, then runs the file.
	os.WriteFile(filepath.Join(fakeBin, "open"), []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '"+openLog+"'; done\nfor last; do :; done\n/bin/sh \"$last\"\n"), 0o755)
	t.Setenv("PATH", fakeBin+string(os.PathListSeparator)+os.Getenv("PATH"))

	data, _ := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	p := filepath.Join(t.TempDir(), `Python's "crash" $(id).crash`)
	os.WriteFile(p, data, 0o600)
	plan, err := lldb.PlanFor(context.Background(), p, "", filepath.Join(t.TempDir(), "none.db"))
	if err != nil {
		t.Fatal(err)
	}
	cmdFile, err := lldb.OpenInTerminal(context.Background(), "darwin", bin, plan)
	if err != nil {
		t.Fatal(err)
	}
	openArgs, _ := os.ReadFile(openLog)
	if string(openArgs) != "-a\nTerminal\n"+cmdFile+"\n" {
		t.Errorf("open got %q", openArgs)
	}
	script, _ := os.ReadFile(cmdFile)
	fi, _ := os.Stat(cmdFile)
	if strings.Contains(string(script), "crash") || !strings.Contains(string(script), bin) || fi.Mode().Perm() != 0o700 {
		t.Errorf(".command (%v):\n%s", fi.Mode(), script)
	}
	got := calls()
	if len(got) != 1 || strings.Join(got[0].Argv[1:], "\x00") != strings.Join(plan.Argv[1:], "\x00") {
		t.Fatalf("lldb from Terminal: %+v, want %q", got, plan.Argv)
	}
	if len(got[0].Crashlog) != 1 {
		t.Fatalf("crashlog reads %+v", got[0].Crashlog)
	}
	if real, _ := filepath.EvalSymlinks(got[0].Crashlog[0][0].Word); real != p {
		t.Errorf("crashlog reads %+v", got[0].Crashlog)
	}
	if _, err := os.Stat(cmdFile + ".plan"); err == nil {
		t.Error("the plan was not removed after use")
	}
	// Run again: the plan is gone, nothing runs.
	if err := exec.Command("/bin/sh", cmdFile).Run(); err == nil {
		t.Error("the .command file ran a second time")
	}
	if calls() != nil {
		t.Error("lldb ran twice")
	}
	if _, err := lldb.OpenInTerminal(context.Background(), "linux", bin, plan); err == nil || !strings.Contains(err.Error(), "macOS") {
		t.Errorf("linux --open: %v", err)
	}
	// The Python note: CPython's helpers are gdb's.
	if !strings.Contains(strings.Join(plan.Notes, " "), "gdb") {
		t.Errorf("no Python note: %q", plan.Notes)
	}
}

// TestDebugCommandEdges: debug is a command like the others: --help exits
// 0, usage mistakes exit 2 with one line, completion offers files and its
// flags, and a file that is neither a crash report nor a core file is
// refused in one line with the exit code inspect gives a file that is not
// a report.
func TestDebugCommandEdges(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	home := envValue(env, "HOME")
	notes := filepath.Join(home, "notes.txt")
	os.WriteFile(notes, []byte("shopping list\n"), 0o600)

	out, errOut, code := runSplit(t, env, "debug", "--help")
	if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--exec") || errOut != "" {
		t.Errorf("debug --help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, args := range [][]string{{"debug"}, {"debug", "-open", notes}, {"debug", "--open", "--exec", notes}, {"debug", notes, notes}, {"debug", "--nope", notes}} {
		_, errOut, code := runSplit(t, env, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
		oneLineError(t, strings.Join(args, " "), errOut)
	}
	_, inspectErr, inspectCode := runSplit(t, env, "inspect", notes)
	_, debugErr, debugCode := runSplit(t, env, "debug", notes)
	if debugCode != inspectCode || debugCode != exitFailed {
		t.Errorf("debug NOTAREPORT exits %d, inspect NOTAREPORT %d (%s)", debugCode, inspectCode, inspectErr)
	}
	if !strings.Contains(debugErr, "neither a crash report") || !strings.HasPrefix(debugErr, "forkwatch debug: ") {
		t.Errorf("debug NOTAREPORT: %q", debugErr)
	}
	oneLineError(t, "debug NOTAREPORT", debugErr)

	out, _, code = runSplit(t, env, "__complete", "debug", "--e")
	if code != 0 || !strings.Contains(out, "--exec") || !strings.Contains(out, "--exe") || strings.Contains(out, "--exec-plan") {
		t.Errorf("flag completion: %q", out)
	}
	out, _, _ = runSplit(t, env, "__complete", "debug", "")
	if !strings.HasSuffix(strings.TrimSpace(out), ":0\nCompletion ended with directive: ShellCompDirectiveDefault") && !strings.Contains(out, ":0\n") {
		t.Errorf("argument completion should offer files (directive 0): %q", out)
	}
}
