package main

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/spf13/cobra"
)

// runIn runs `forkwatch ARGS...` in this process (as root in these tests)
// with a bound on its run: a command that is not refused (watch) stops
// when the time is up.
func runIn(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var o, e strings.Builder
	c := &cli{ctx: ctx, stdout: &o, stderr: &e}
	code = c.execute(args)
	return o.String(), e.String(), code
}

// userHome is a home folder of uid (support and log folders included, as
// Forkwatch on Linux lays them out under XDG_CONFIG_HOME), set as HOME.
func userHome(t *testing.T, uid int) (home, support string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "home")
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	support = appinfo.SupportDir()
	for _, d := range []string{support, filepath.Join(home, "Library", "Logs", "DiagnosticReports")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, home, uid)
	return home, support
}

// rootsIn lists what in home belongs to root.
func rootsIn(t *testing.T, home string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Sys().(*syscall.Stat_t).Uid == 0 {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestRootWithUserHome is issue 28's "root with the user's HOME": `sudo
// -E forkwatch …` as root (this test's user) in the home folder of uid
// 65534, who planted links there. Each attack of the issue is tried:
//
//   - watch: forkwatch.pid a link to a root-owned file (it was truncated
//     and given watch's pid);
//   - debug: the debug folder a link to a root folder (it was chmodded
//     0700), with a report whose name makes debug use that folder;
//   - set ulimit-core on: ~/.profile a link to a root-owned file (the
//     atomic writer already refuses the link; the command also left
//     root-owned folders in the user's home);
//   - uninstall: the tracer folder a link to a root folder holding a spool
//     folder (its contents were removed).
//
// Every command that touches a home folder is refused with "run as the
// user, not with sudo" before it touches anything: the root file and
// folders are as they were, and nothing in the home belongs to root. The
// commands that touch no home (inspect, version, help, completion) still
// run. TestRootOwnHome is the control: root in its own home.
func TestRootWithUserHome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is root following the user's links")
	}
	home, support := userHome(t, nobodyUID)
	victims := t.TempDir()
	rootFile := filepath.Join(victims, "root-file")
	const content = "root's\n"
	os.WriteFile(rootFile, []byte(content), 0o644)
	rootDir := filepath.Join(victims, "root-dir")
	os.MkdirAll(filepath.Join(rootDir, "spool"), 0o755)
	os.WriteFile(filepath.Join(rootDir, "spool", "crontab"), []byte(content), 0o644)
	os.Chmod(rootDir, 0o755)

	plant := func(target, link string) {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		os.Lchown(link, nobodyUID, nobodyUID)
	}
	plant(rootFile, filepath.Join(support, appinfo.InstanceLockName))
	plant(rootDir, filepath.Join(support, "debug"))
	plant(rootDir, filepath.Join(support, "forktrace"))
	plant(rootFile, filepath.Join(home, ".profile"))
	data, err := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	if err != nil {
		t.Fatal(err)
	}
	// A name lldb cannot take as it is: debug would make its plain-named
	// link in the (linked) debug folder.
	report := filepath.Join(home, "Library", "Logs", "DiagnosticReports", "Python\n`id`.crash")
	os.WriteFile(report, data, 0o600)
	os.Lchown(report, nobodyUID, nobodyUID)

	for _, args := range [][]string{
		{"watch", "--reports-dir", filepath.Join(home, "Library", "Logs", "DiagnosticReports"), "--cores-dir", ""},
		{"debug", report},
		{"set", "ulimit-core", "on"},
		{"uninstall"},
		{}, // the menu-bar app
		{"status"},
		{"doctor"},
		{"trace", "status"},
		{"history"},
		{"history", "--page"},
		{"notify", "--test"},
	} {
		_, stderr, code := runIn(t, args...)
		if code != exitFailed || !strings.Contains(stderr, "run as the user, not with sudo") || !strings.Contains(stderr, "belongs to uid 65534") {
			t.Errorf("forkwatch %q as root in uid 65534's home: exit %d, stderr %q; want refused", args, code, stderr)
		}
	}
	if b, _ := os.ReadFile(rootFile); string(b) != content {
		t.Errorf("the root file changed through the user's link: %q", b)
	}
	if fi, _ := os.Stat(rootDir); fi.Mode().Perm() != 0o755 {
		t.Errorf("the root folder was chmodded through the user's link: %v", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(filepath.Join(rootDir, "spool", "crontab")); string(b) != content {
		t.Errorf("the root folder's contents were removed through the user's link")
	}
	if r := rootsIn(t, home); len(r) > 0 {
		t.Errorf("root left its files in the user's home: %q", r)
	}
	// What touches no home runs.
	for _, args := range [][]string{{"inspect", sample("python37-objc-fork-fontbakery-2982.crash")}, {"version"}, {"--version"}, {"help"}, {"completion", "zsh"}, {"watch", "--help"}} {
		if out, stderr, code := runIn(t, args...); code != exitOK || out == "" {
			t.Errorf("forkwatch %q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestRootOwnHome: the control of TestRootWithUserHome. Root in a home of
// its own is not refused: watch takes the lock (and writes its pid), set
// changes ~/.profile and ~/.zshrc.
func TestRootOwnHome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	home, support := userHome(t, 0)
	os.WriteFile(filepath.Join(home, ".profile"), []byte("export A=1\n"), 0o644)
	_, stderr, code := runIn(t, "watch", "--reports-dir", filepath.Join(home, "Library", "Logs", "DiagnosticReports"), "--cores-dir", "")
	if code != exitOK || strings.Contains(stderr, "sudo") {
		t.Fatalf("watch in root's own home: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(support, appinfo.InstanceLockName)); err != nil {
		t.Errorf("watch took no lock: %v", err)
	}
	if _, stderr, code := runIn(t, "set", "ulimit-core", "on"); code != exitOK {
		t.Fatalf("set ulimit-core on: exit %d: %s", code, stderr)
	}
	for _, f := range []string{".profile", ".zshrc"} {
		if b, _ := os.ReadFile(filepath.Join(home, f)); !strings.Contains(string(b), "ulimit -c 0") {
			t.Errorf("~/%s: %q", f, b)
		}
	}
}

// TestRootSetThroughUsersLink is the command-level check that the atomic
// writer's owner check holds for root too (issue 28): with the refusal
// above out of the way (a home of root's), a ~/.profile that is a link
// uid 65534 made to a root-owned file is refused by `set`, and the file
// keeps its bytes.
func TestRootSetThroughUsersLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	home, _ := userHome(t, 0)
	rootFile := filepath.Join(t.TempDir(), "root-file")
	const content = "root's\n"
	os.WriteFile(rootFile, []byte(content), 0o644)
	for _, f := range []string{".profile", ".bash_profile", ".bashrc", ".zshrc", ".zprofile"} {
		link := filepath.Join(home, f)
		os.Symlink(rootFile, link)
		os.Lchown(link, nobodyUID, nobodyUID)
	}
	_, stderr, code := runIn(t, "set", "ulimit-core", "on")
	if code == exitOK {
		t.Errorf("set through uid 65534's links: exit 0 (%s)", stderr)
	}
	if b, _ := os.ReadFile(rootFile); string(b) != content {
		t.Errorf("the root file changed: %q", b)
	}
}

// TestRootGuardCoversTree: every command of the tree is refused as root
// with another user's home unless it is one of those that touch no home
// folder; a command added later is refused until it says otherwise (the
// default), and one that says so is listed here, on purpose.
func TestRootGuardCoversTree(t *testing.T) {
	noHomeCmds := map[string]bool{"forkwatch inspect": true, "forkwatch version": true, "forkwatch help": true, "forkwatch check": true,
		"forkwatch completion": true, "forkwatch completion zsh": true, "forkwatch completion bash": true,
		"forkwatch completion fish": true, "forkwatch completion powershell": true,
		"forkwatch __complete": true, "forkwatch __completeNoDesc": true}
	root := newRootCmd(&cli{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		seen++
		if got, want := touchesHome(c), !noHomeCmds[c.CommandPath()]; got != want {
			t.Errorf("%s: touches home %v, want %v", c.CommandPath(), got, want)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if seen < 15 {
		t.Errorf("walked %d commands: the tree is not what this test thinks", seen)
	}
}
