package doctor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/settings"
)

func TestCoreVerdict(t *testing.T) {
	// Facts as read from a Mac (values only: no file system is touched).
	open := CoreSystem{Coredump: "1", CoreFile: "/cores/core.%P", CoreDir: "/cores", CoreDirExists: true, CoreDirWritable: true}
	with := func(f func(*CoreSystem)) CoreSystem { c := open; f(&c); return c }
	gta := &Interpreter{GetTaskAllow: Yes, HardenedRuntime: No}
	hardened := &Interpreter{GetTaskAllow: No, HardenedRuntime: Yes}
	adhoc := &Interpreter{GetTaskAllow: No, HardenedRuntime: No}
	linux := &Interpreter{GetTaskAllow: NotApplicable, HardenedRuntime: NotApplicable}
	unlimited := limitFact{value: "unlimited", source: "~/.zshrc:9: ulimit -c unlimited"}
	cases := []struct {
		name   string
		cs     CoreSystem
		in     *Interpreter
		goos   string
		limit  limitFact
		want   string
		reason string
	}{
		{"everything open, entitled", open, gta, "darwin", unlimited, Yes, "core limit unlimited"},
		{"kern.coredump=0 decides first", with(func(c *CoreSystem) { c.Coredump = "0" }), gta, "darwin", unlimited, No, "kern.coredump=0"},
		{"limit 0", open, gta, "darwin", limitFact{value: "0", source: "launchctl limit core"}, No, "core limit 0 (launchctl limit core)"},
		{"folder missing", with(func(c *CoreSystem) { c.CoreDirExists = false }), gta, "darwin", unlimited, No, "/cores does not exist"},
		{"folder not writable", with(func(c *CoreSystem) { c.CoreDirWritable = false }), gta, "darwin", unlimited, No, "not writable"},
		{"hardened without get-task-allow", open, hardened, "darwin", unlimited, No, "hardened runtime without the com.apple.security.get-task-allow"},
		{"ad-hoc without get-task-allow", open, adhoc, "darwin", unlimited, No, "lacks the com.apple.security.get-task-allow"},
		{"signature unreadable", open, &Interpreter{GetTaskAllow: Unknown}, "darwin", unlimited, Unknown, "signature could not be read"},
		{"relative corefile", with(func(c *CoreSystem) { c.CoreFile, c.CoreDir = "core", "" }), gta, "darwin", unlimited, Unknown, "relative"},
		{"no sysctl", CoreSystem{}, linux, "linux", unlimited, Unknown, "kern.coredump could not be read"},
		{"linux limit 0 still decides", CoreSystem{}, linux, "linux", limitFact{value: "0", source: "x"}, No, "core limit 0"},
		{"no launchd", open, linux, "linux", limitFact{missing: "there is no launchd on this system"}, Unknown, "no launchd"},
		{"skipped", open, &Interpreter{Skipped: "stub"}, "darwin", unlimited, Unknown, "not checked"},
	}
	for _, c := range cases {
		v := coreVerdict(c.cs, c.in, c.goos, c.limit)
		if v.Verdict != c.want || !strings.Contains(v.Reason, c.reason) {
			t.Errorf("%s: %+v, want %s with %q", c.name, v, c.want, c.reason)
		}
	}
}

// New shells: our block gives 0; a later `ulimit -c unlimited` raises it
// again, and the fix is to delete that line; launchd's limit stands apart.
func TestCoreFromShellFollowsStartupFiles(t *testing.T) {
	m := newFakeMac(t)
	m.setState(t, "sysctl.kern.coredump", "1\n")
	corefile := filepath.Join(m.root, "cores")
	os.MkdirAll(corefile, 0o777)
	m.setState(t, "sysctl.kern.corefile", "/cores/core.%P\n")
	m.setState(t, "launchd.core", "\tcore        unlimited      unlimited\n")
	py := filepath.Join(m.home, "bin", "python3")
	m.fakePython(t, py, "3.12.0", "spawn", 0)
	m.write(t, py+".sig", "gta\n", 0o644)
	o := m.options("darwin")
	o.PATH = filepath.Dir(py)
	env := o.Settings
	env.SupportDir = o.SupportDir

	// No start-up file: a new terminal inherits launchd's (unlimited).
	rep := runDoctor(t, o)
	in := find(rep, py)
	if in.CoreFromShell.Verdict != Yes || in.CoreFromShell.Fix != "forkwatch set ulimit-core on" {
		t.Errorf("no start-up line: %+v", in.CoreFromShell)
	}
	if in.CoreFromLaunchd.Verdict != Yes || !strings.Contains(in.CoreFromLaunchd.Fix, "coredump-off") {
		t.Errorf("launchd unlimited: %+v", in.CoreFromLaunchd)
	}

	// The toggle on: no core from a terminal; apps still write them.
	if err := (&settings.Ulimit{Env: env}).Set(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	rep = runDoctor(t, o)
	in = find(rep, py)
	if in.CoreFromShell.Verdict != No || !strings.Contains(in.CoreFromShell.Reason, "ulimit -c 0") {
		t.Errorf("toggle on: %+v", in.CoreFromShell)
	}
	if in.CoreFromLaunchd.Verdict != Yes {
		t.Errorf("toggle on, launchd unlimited: %+v", in.CoreFromLaunchd)
	}

	// A later line raises it again.
	zshrc := filepath.Join(m.home, ".zshrc")
	b, _ := os.ReadFile(zshrc)
	lines := strings.Count(string(b), "\n")
	os.WriteFile(zshrc, append(b, "ulimit -c unlimited\n"...), 0o644)
	rep = runDoctor(t, o)
	in = find(rep, py)
	want := "~/.zshrc:" + itoa(lines+1) + ": ulimit -c unlimited"
	if in.CoreFromShell.Verdict != Yes || !strings.Contains(in.CoreFromShell.Fix, "delete the line "+want) {
		t.Errorf("later line: %+v, want fix deleting %s", in.CoreFromShell, want)
	}
	if rep.System.ShellConflict != want {
		t.Errorf("conflict %q, want %q", rep.System.ShellConflict, want)
	}

	// kern.coredump=0 settles both.
	m.setState(t, "sysctl.kern.coredump", "0\n")
	rep = runDoctor(t, o)
	in = find(rep, py)
	if in.CoreFromShell.Verdict != No || in.CoreFromLaunchd.Verdict != No || !strings.Contains(in.CoreFromLaunchd.Reason, "kern.coredump=0") {
		t.Errorf("kern.coredump=0: %+v / %+v", in.CoreFromShell, in.CoreFromLaunchd)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestForkSafetyVerdicts(t *testing.T) {
	m := newFakeMac(t)
	o := m.options("darwin")
	rep := runDoctor(t, o)
	fs := rep.ForkSafety
	if fs.LaunchdNow.Verdict != No || fs.NextLogin.Verdict != No || fs.Shell.Verdict != No {
		t.Fatalf("nothing set: %+v", fs)
	}
	if len(fs.Restart) != 0 || !strings.Contains(fs.RestartNote, "not set in launchd") {
		t.Errorf("restart: %+v %q", fs.Restart, fs.RestartNote)
	}

	// Turned on 10 minutes ago by the toggle (the agent's mtime); Terminal
	// started before, iTerm2 after; a .zshrc line with the wrong spelling.
	m.setState(t, "env."+ForkSafetyVar, "YES\n")
	agent := filepath.Join(m.home, "Library", "LaunchAgents", forkSafetyAgent)
	m.write(t, agent, `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>Label</key><string>com.forkwatch.fork-safety-env</string>
<key>ProgramArguments</key><array><string>/bin/launchctl</string><string>setenv</string><string>OBJC_DISABLE_INITIALIZE_FORK_SAFETY</string><string>YES</string></array>
<key>RunAtLoad</key><true/></dict></plist>
`, 0o644)
	set := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	os.Chtimes(agent, set, set)
	lstart := func(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }
	m.setState(t, "ps", strings.Join([]string{
		"  101 " + lstart(set.Add(-time.Hour)) + " /System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal",
		"  102 " + lstart(set.Add(time.Minute)) + " /Applications/iTerm.app/Contents/MacOS/iTerm2",
		"  103 " + lstart(set.Add(-2*time.Hour)) + " /Applications/Visual Studio Code.app/Contents/MacOS/Electron",
		"  104 " + lstart(set.Add(-2*time.Hour)) + " /Applications/Visual Studio Code.app/Contents/Frameworks/Code Helper.app/Contents/MacOS/Code Helper",
		"  105 " + lstart(set.Add(-3*time.Hour)) + " tmux",
		"  106 " + lstart(set.Add(-3*time.Hour)) + " /usr/sbin/cfprefsd",
		"garbage line",
	}, "\n")+"\n")
	m.write(t, filepath.Join(m.home, ".zshrc"), "# mine\nexport OBJC_DISABLE_INITIALIZE_FORK_SAFETY=1\n", 0o644)
	m.write(t, filepath.Join(m.home, ".bash_profile"), "export OBJC_DISABLE_INITIALIZE_FORK_SAFETY=\"YES\"\necho $OBJC_DISABLE_INITIALIZE_FORK_SAFETY\n", 0o644)

	rep = runDoctor(t, o)
	fs = rep.ForkSafety
	if fs.LaunchdNow.Verdict != Yes || fs.NextLogin.Verdict != Yes {
		t.Errorf("set: now %+v next %+v", fs.LaunchdNow, fs.NextLogin)
	}
	if fs.SetSince == nil || !fs.SetSince.Equal(set) {
		t.Errorf("set since %v, want %v", fs.SetSince, set)
	}
	var names []string
	for _, a := range fs.Restart {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "tmux server,VS Code,Terminal" {
		t.Errorf("restart %v, want tmux server, VS Code, Terminal (oldest first; not iTerm2, not helpers)", names)
	}
	if !strings.Contains(fs.RestartNote, "inferred from start times") {
		t.Errorf("note %q", fs.RestartNote)
	}
	if len(fs.ShellLines) != 2 {
		t.Fatalf("shell lines %+v", fs.ShellLines)
	}
	if l := fs.ShellLines[0]; l.File != "~/.zshrc" || l.Line != 2 || l.Value != "1" || !strings.Contains(l.Problem, "only the exact value YES") {
		t.Errorf("zshrc line %+v", l)
	}
	if l := fs.ShellLines[1]; l.Value != "YES" || l.Problem != "" {
		t.Errorf("bash line %+v", l)
	}
	if fs.Shell.Verdict != No || !strings.Contains(fs.Shell.Fix, "~/.zshrc:2") {
		t.Errorf("shell verdict %+v", fs.Shell)
	}
	fixes := strings.Join(rep.Fixes(), "\n")
	if !strings.Contains(fixes, "restart to pick up") || !strings.Contains(fixes, "~/.zshrc:2") {
		t.Errorf("fixes:\n%s", fixes)
	}
}

func TestParsePSKeepsSpacesAndEarliest(t *testing.T) {
	out := "  7 Thu Nov  6 08:10:26 2026 /Applications/PyCharm CE.app/Contents/MacOS/pycharm\n" +
		"  8 Wed Nov  5 08:10:26 2026 /Applications/PyCharm CE.app/Contents/MacOS/pycharm\n"
	apps := parsePS(out, time.UTC)
	if len(apps) != 1 || apps[0].PID != 8 || apps[0].Command != "/Applications/PyCharm CE.app/Contents/MacOS/pycharm" || apps[0].Started.Day() != 5 {
		t.Errorf("%+v", apps)
	}
}
