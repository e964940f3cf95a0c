package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestDebugBacktickNameOnlyAlias is issue 28's lldb attack: lldb's
// command interpreter expands text between backticks as an expression
// before a command runs, inside single quotes too, so a report named
// Python-`platform shell touch pwned`.crash made `crashlog '…'` open
// another file than the one checked, and reached the expression
// evaluator. Now lldb's argv holds none of the name: the crashlog command
// names only the plain-named link in the private debug folder, which leads
// to the report that was checked. The control: a plain name reaches lldb
// as it is.
func TestDebugBacktickNameOnlyAlias(t *testing.T) {
	calls := installFakeLLDB(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	data, err := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"Python-`platform shell touch pwned`.crash", "Python-$(id)-{a};#%.crash", "Python-2020-07-17-101010.crash"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o600)
		var out, errb strings.Builder
		if code := runDebugArgs([]string{"--exec", p}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errb.String())
		}
		got := calls()
		if len(got) != 1 || len(got[0].Argv) != 5 {
			t.Fatalf("%s: lldb calls %+v", name, got)
		}
		argv := got[0].Argv
		plain := !strings.ContainsAny(name, "`$(){};#%")
		if plain {
			if argv[4] != "crashlog '"+p+"'" {
				t.Errorf("a plain name: %q", argv[4])
			}
			continue
		}
		for _, a := range argv {
			if strings.ContainsAny(a, "`$;#%{}") || strings.Contains(a, "platform") {
				t.Errorf("%s: lldb's argv holds the name: %q", name, argv)
			}
		}
		alias := strings.TrimSuffix(strings.TrimPrefix(argv[4], "crashlog '"), "'")
		if filepath.Dir(alias) != filepath.Join(home, ".config", "forkwatch", "debug") || !strings.HasPrefix(filepath.Base(alias), "report-") {
			t.Errorf("%s: crashlog reads %q, want the plain link in the debug folder", name, alias)
		}
		if real, _ := filepath.EvalSymlinks(alias); real != p {
			t.Errorf("%s: the link leads to %q", name, real)
		}
		if !strings.Contains(out.String(), "through the link "+alias) {
			t.Errorf("%s: no note on the link:\n%s", name, out.String())
		}
	}
}

// TestDebugCoreExecutableOwnership is issue 28's item 9: `debug CORE`
// pointed lldb (--file) at the executable the crash report in the history
// names, whoever owned it. As root, an executable in a folder of uid
// 65534's (and one in a folder anyone can write) is left out with a note
// naming why, and lldb reads the core alone; the same named with --exe is
// an error. The control: an executable in a folder of the user's is
// passed as --file.
func TestDebugCoreExecutableOwnership(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a folder to another uid")
	}
	calls := installFakeLLDB(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	base := t.TempDir()
	mkExe := func(name string, mode os.FileMode, uid int) string {
		d := filepath.Join(base, name, "bin")
		os.MkdirAll(d, 0o755)
		exe := filepath.Join(d, "python3.12")
		os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
		os.Chmod(d, mode)
		chownTree(t, filepath.Join(base, name), uid)
		return exe
	}
	theirs := mkExe("theirs", 0o755, nobodyUID)
	shared := mkExe("shared", 0o777, 0)
	own := mkExe("own", 0o755, 0)
	cores := filepath.Join(base, "cores")
	os.Mkdir(cores, 0o755)
	db := filepath.Join(base, "history.db")
	h, err := history.Open(db, history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cases := []struct {
		pid  int
		exe  string
		want string // "" : passed as --file
	}{{4301, theirs, "owned by uid 65534"}, {4302, shared, "writable by others"}, {4303, own, ""}}
	for _, c := range cases {
		core := filepath.Join(cores, "core."+strconv.Itoa(c.pid))
		os.WriteFile(core, machoCore(), 0o400)
		h.MarkSeen(&report.Report{ID: "incident:" + strconv.Itoa(c.pid), Process: "Python", PID: c.pid, ExePath: c.exe, Runtime: report.RuntimePython,
			Cause: report.CauseForkSafety, ForkChild: true, Time: now.Format(time.RFC3339), Path: "/r/Python-" + strconv.Itoa(c.pid) + ".ips"}, now)
		if err := h.RecordCore(report.CoreFile{Path: core, PID: c.pid, Size: 64, Complete: true}, now); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()
	for _, c := range cases {
		core := filepath.Join(cores, "core."+strconv.Itoa(c.pid))
		var out, errb strings.Builder
		if code := runDebugArgs([]string{"--exec", "--db", db, core}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.exe, code, errb.String())
		}
		got := calls()
		if len(got) != 1 {
			t.Fatalf("lldb calls %+v", got)
		}
		argv := strings.Join(got[0].Argv[1:], " ")
		if c.want == "" {
			if argv != "--core "+core+" --file "+c.exe {
				t.Errorf("own executable: lldb %q", argv)
			}
			continue
		}
		if strings.Contains(argv, "--file") || argv != "--core "+core {
			t.Errorf("%s: lldb %q, want the core alone", c.exe, argv)
		}
		if !strings.Contains(out.String(), "left out") || !strings.Contains(out.String(), c.want) {
			t.Errorf("%s: no note saying why:\n%s", c.exe, out.String())
		}
		// Named by the user, the same executable is refused outright.
		out.Reset()
		errb.Reset()
		if code := runDebugArgs([]string{"--exe", c.exe, "--db", db, core}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), c.want) {
			t.Errorf("--exe %s: exit %d, %q", c.exe, code, errb.String())
		}
	}
}

// TestDebugPlantedLLDB: lldb is found through the ownership check; one in
// a PATH folder anybody can write is not run (and nothing further down
// PATH in its place).
func TestDebugPlantedLLDB(t *testing.T) {
	calls := installFakeLLDB(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	lldbDir := filepath.Dir(strings.SplitN(os.Getenv("PATH"), string(os.PathListSeparator), 2)[0] + "/lldb")
	data, _ := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	p := filepath.Join(t.TempDir(), "Python.crash")
	os.WriteFile(p, data, 0o600)
	var out, errb strings.Builder
	if code := runDebugArgs([]string{"--exec", p}, &out, &errb); code != 0 || len(calls()) != 1 {
		t.Fatalf("control: exit %d: %s", code, errb.String())
	}
	os.Chmod(lldbDir, 0o777)
	defer os.Chmod(lldbDir, 0o755)
	errb.Reset()
	if code := runDebugArgs([]string{"--exec", p}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "writable by others") {
		t.Errorf("lldb in a 0777 folder: exit %d: %s", code, errb.String())
	}
	if calls() != nil {
		t.Error("the planted lldb ran")
	}
}

// TestDebugLinkedDebugFolder: the debug folder is opened without following
// links. As root in a home of root's (so that the refusal of root with
// another user's home does not apply), a debug folder that is a link to a
// root folder made debug chmod that folder 0700 (os.MkdirAll + os.Chmod);
// now debug refuses and the folder keeps its mode. The control: with the
// link gone, the same report gets its plain-named link in a real debug
// folder of mode 0700.
func TestDebugLinkedDebugFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is root following a link to a root folder")
	}
	calls := installFakeLLDB(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	support := filepath.Join(home, ".config", "forkwatch")
	os.MkdirAll(support, 0o700)
	rootDir := filepath.Join(t.TempDir(), "etc")
	os.Mkdir(rootDir, 0o755)
	os.Chmod(rootDir, 0o755)
	os.Symlink(rootDir, filepath.Join(support, "debug"))
	data, _ := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	p := filepath.Join(t.TempDir(), "Python\n`id`.crash")
	os.WriteFile(p, data, 0o600)
	var out, errb strings.Builder
	if code := runDebugArgs([]string{"--exec", p}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "a link, not a folder") {
		t.Errorf("linked debug folder: exit %d: %s", code, errb.String())
	}
	if fi, _ := os.Stat(rootDir); fi.Mode().Perm() != 0o755 {
		t.Errorf("the root folder was chmodded through the link: %v", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(rootDir); len(ents) > 0 {
		t.Errorf("debug wrote into the root folder: %v", ents)
	}
	if calls() != nil {
		t.Error("lldb ran")
	}
	os.Remove(filepath.Join(support, "debug"))
	if code := runDebugArgs([]string{"--exec", p}, &out, &errb); code != exitOK || len(calls()) != 1 {
		t.Fatalf("control: exit %d: %s", code, errb.String())
	}
	if fi, err := os.Lstat(filepath.Join(support, "debug")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("debug folder: %v %v", fi, err)
	}
}
