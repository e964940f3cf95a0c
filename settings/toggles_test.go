package settings

import (
	"context"
	"errors"
	"github.com/forkwatch/forkwatch/internal/syscmd"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

// TestTogglesOnOff: every toggle goes on and off against the fakes, the
// state read back tells the truth after each step, and off leaves the home
// exactly as it was (uninstall too).
func TestTogglesOnOff(t *testing.T) {
	for _, goos := range []string{"darwin", "linux"} {
		t.Run(goos, func(t *testing.T) {
			fsys := newFakeSystem(t, goos)
			env := fsys.env
			os.WriteFile(filepath.Join(env.Home, ".profile"), []byte("export FOO=bar\n"), 0o644)
			before := snapshot(t, env.Home)
			rootBefore := snapshot(t, fsys.root)
			// On Linux only the toggles that exist there (Available):
			// uninstall leaves the macOS-only ones alone.
			for _, tg := range Available(env) {
				st := tg.State(ctx)
				if st.On || st.Error != "" {
					t.Fatalf("%s starts %+v", tg.Name(), st)
				}
				for round := 0; round < 2; round++ {
					st, err := SetAndVerify(ctx, tg, true)
					if err != nil || !st.On {
						t.Fatalf("%s on (round %d): %v %+v", tg.Name(), round, err, st)
					}
				}
				st, err := SetAndVerify(ctx, tg, false)
				if err != nil || st.On {
					t.Fatalf("%s off: %v %+v", tg.Name(), err, st)
				}
			}
			// Everything on, then uninstall: back to the start.
			for _, tg := range Available(env) {
				if _, err := SetAndVerify(ctx, tg, true); err != nil {
					t.Fatal(err)
				}
			}
			if err := Uninstall(ctx, env, io.Discard, env.SupportDir); err != nil {
				t.Fatal(err)
			}
			if d := diffSnapshots(before, snapshot(t, env.Home)); d != "" {
				t.Errorf("home not restored after uninstall:\n%s", d)
			}
			if d := diffSnapshots(rootBefore, snapshot(t, fsys.root)); d != "" {
				t.Errorf("system folder not restored:\n%s", d)
			}
		})
	}
}

// TestCoredumpAdminPath: the root script is the constant one, sysctl -w
// works only through the administrator prompt, and a cancelled prompt
// changes nothing and says so.
func TestCoredumpAdminPath(t *testing.T) {
	fsys := newFakeSystem(t, "darwin")
	c := &Coredump{Env: fsys.env}
	if _, err := SetAndVerify(ctx, c, true); err != nil {
		t.Fatal(err)
	}
	on, off := CoredumpScripts()
	if !strings.Contains(fsys.osascriptLog(), on) {
		t.Errorf("osascript did not get the constant script; got:\n%s", fsys.osascriptLog())
	}
	daemon := filepath.Join(fsys.root, "Library", "LaunchDaemons", "com.forkwatch.coredump-off.plist")
	j, ok, err := readJob(daemon)
	if !ok || err != nil || strings.Join(j.ProgramArguments, " ") != "/usr/sbin/sysctl -w kern.coredump=0" || !j.RunAtLoad {
		t.Errorf("daemon plist: %+v %v %v", j, ok, err)
	}
	if st := c.State(ctx); !strings.Contains(st.Detail, "kept at boot") {
		t.Errorf("detail: %s", st.Detail)
	}
	// Without the admin path, sysctl -w is refused (the fake is honest).
	if out, err := exec.Command("sysctl", "-w", "kern.coredump=1").CombinedOutput(); err == nil {
		t.Errorf("fake sysctl allowed a write without admin: %s", out)
	}
	t.Setenv("FAKE_OSASCRIPT_CANCEL", "1")
	st, err := SetAndVerify(ctx, c, false)
	if !errors.Is(err, ErrCancelled) || !st.On {
		t.Fatalf("cancel: err %v, state %+v", err, st)
	}
	if !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("message: %v", err)
	}
	t.Setenv("FAKE_OSASCRIPT_CANCEL", "")
	if _, err := SetAndVerify(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fsys.osascriptLog(), off) {
		t.Error("off script not used")
	}
	if _, err := os.Stat(daemon); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("daemon left behind: %v", err)
	}
}

// TestRootScriptsAreConstant: nothing variable reaches the root script, and
// it uses absolute paths only.
func TestRootScriptsAreConstant(t *testing.T) {
	on, off := CoredumpScripts()
	for _, s := range []string{on, off} {
		for _, line := range strings.Split(s, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] == "set" || strings.HasPrefix(line, "<") || strings.HasPrefix(line, "\t") || line == "FORKWATCH_PLIST" {
				continue
			}
			if !strings.HasPrefix(f[0], "/") {
				t.Errorf("command without absolute path: %q", line)
			}
		}
		if strings.ContainsAny(s, "$`") {
			t.Errorf("script has shell expansions: %q", s)
		}
	}
	// Built from the same constants every time.
	on2, off2 := buildCoredumpScripts()
	if on2 != on || off2 != off {
		t.Error("scripts are not constant")
	}
}

// TestUlimitRealShells: after on, real zsh and bash start with core limit 0
// even when the user's files say unlimited, and a variable exported in an
// existing ~/.profile is still set; after off, the files are byte for byte
// as before and the shells are back to unlimited.
func TestUlimitRealShells(t *testing.T) {
	for _, sh := range []string{"zsh", "bash"} {
		if _, err := exec.LookPath(sh); err != nil {
			t.Skipf("%s not installed (.ci/run installs it): %v", sh, err)
		}
	}
	fsys := newFakeSystem(t, "linux")
	env := fsys.env
	env.Shell = "/bin/zsh"
	zshrc := "# my zshrc\nulimit -c unlimited\nexport ZVAR=1" // no final newline
	profile := "export FOO=bar\nulimit -c unlimited\n"
	os.WriteFile(filepath.Join(env.Home, ".zshrc"), []byte(zshrc), 0o600)
	os.WriteFile(filepath.Join(env.Home, ".profile"), []byte(profile), 0o644)
	u := &Ulimit{Env: env}

	shell := func(args ...string) string {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = []string{"HOME=" + env.Home, "PATH=/usr/bin:/bin", "TERM=dumb"}
		cmd.Stdin = nil
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	zsh := func() string { return lastLine(shell("zsh", "-l", "-i", "-c", "ulimit -c")) }
	bash := func() string { return lastLine(shell("bash", "-l", "-c", "echo $FOO; ulimit -c")) }

	if got := zsh(); got != "unlimited" {
		t.Fatalf("zsh before: %q", got)
	}
	st, err := SetAndVerify(ctx, u, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := zsh(); got != "0" {
		t.Errorf("zsh after on: %q", got)
	}
	out := shell("bash", "-l", "-c", "echo $FOO; ulimit -c")
	if out != "bar\n0" {
		t.Errorf("bash after on: %q", out)
	}
	if !strings.Contains(st.Detail, "overrides") {
		t.Errorf("detail should name the overridden lines: %s", st.Detail)
	}
	if _, err := os.Stat(filepath.Join(env.Home, ".bash_profile")); err == nil {
		t.Error("created ~/.bash_profile, which would hide ~/.profile")
	}
	if fi, _ := os.Stat(filepath.Join(env.Home, ".zshrc")); fi.Mode().Perm() != 0o600 {
		t.Errorf(".zshrc mode changed to %v", fi.Mode().Perm())
	}
	if _, err := SetAndVerify(ctx, u, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(env.Home, ".zshrc")); string(b) != zshrc {
		t.Errorf(".zshrc not restored: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(env.Home, ".profile")); string(b) != profile {
		t.Errorf(".profile not restored: %q", b)
	}
	if got := zsh(); got != "unlimited" {
		t.Errorf("zsh after off: %q", got)
	}
	if got := bash(); got != "unlimited" {
		t.Errorf("bash after off: %q", got)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TestUlimitConflictAfter: a line in a file read after ours is reported
// with file and line.
func TestUlimitConflictAfter(t *testing.T) {
	fsys := newFakeSystem(t, "darwin")
	os.WriteFile(filepath.Join(fsys.env.Home, ".zlogin"), []byte("echo hi\nulimit -c unlimited\n"), 0o644)
	st, err := SetAndVerify(ctx, &Ulimit{Env: fsys.env}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Conflicts) != 1 || !strings.Contains(st.Conflicts[0], "~/.zlogin:2") {
		t.Errorf("conflicts: %q", st.Conflicts)
	}
	if !strings.Contains(st.Detail, "launchd's limit") {
		t.Errorf("darwin detail should report launchctl limit core: %s", st.Detail)
	}
}

// TestUlimitFilesAsTheyAre: a symlinked dotfile is edited at its target and
// stays a symlink; ZDOTDIR is honoured; a read-only file, a file owned by
// someone else and a malformed block give clear errors and no write.
func TestUlimitFilesAsTheyAre(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		fsys := newFakeSystem(t, "linux")
		dots := filepath.Join(fsys.env.Home, "dotfiles")
		os.Mkdir(dots, 0o755)
		os.WriteFile(filepath.Join(dots, "zshrc"), []byte("export A=1\n"), 0o644)
		os.Symlink("dotfiles/zshrc", filepath.Join(fsys.env.Home, ".zshrc"))
		u := &Ulimit{Env: fsys.env}
		if _, err := SetAndVerify(ctx, u, true); err != nil {
			t.Fatal(err)
		}
		if l, err := os.Readlink(filepath.Join(fsys.env.Home, ".zshrc")); err != nil || l != "dotfiles/zshrc" {
			t.Fatalf("symlink replaced: %q %v", l, err)
		}
		b, _ := os.ReadFile(filepath.Join(dots, "zshrc"))
		if !HasBlock(b) {
			t.Fatal("target not edited")
		}
		SetAndVerify(ctx, u, false)
		if b, _ := os.ReadFile(filepath.Join(dots, "zshrc")); string(b) != "export A=1\n" {
			t.Fatalf("target not restored: %q", b)
		}
	})
	t.Run("zdotdir", func(t *testing.T) {
		fsys := newFakeSystem(t, "linux")
		fsys.env.ZDOTDIR = filepath.Join(fsys.env.Home, ".config", "zsh")
		if _, err := SetAndVerify(ctx, &Ulimit{Env: fsys.env}, true); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(fsys.env.ZDOTDIR, ".zshrc")); err != nil || !HasBlock(b) {
			t.Fatalf("no block in $ZDOTDIR/.zshrc: %v", err)
		}
		if _, err := os.Stat(filepath.Join(fsys.env.Home, ".zshrc")); err == nil {
			t.Error("wrote ~/.zshrc though ZDOTDIR is set")
		}
	})
	for _, tc := range []struct {
		name    string
		prepare func(p string)
		want    string
	}{
		{"read-only", func(p string) { os.WriteFile(p, []byte("x\n"), 0o444) }, "read-only"},
		{"malformed", func(p string) { os.WriteFile(p, []byte(BeginMarker+"\nulimit -c 0\n"), 0o644) }, "incomplete"},
		{"other owner", func(p string) {
			os.WriteFile(p, []byte("x\n"), 0o644)
		}, "owned by uid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := newFakeSystem(t, "linux")
			if tc.name == "other owner" {
				fsys.env.writerUID = func() int { return 4242 } // tests run as root in CI
			}
			p := filepath.Join(fsys.env.Home, ".zshrc")
			tc.prepare(p)
			before, _ := os.ReadFile(p)
			_, err := SetAndVerify(ctx, &Ulimit{Env: fsys.env}, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if after, _ := os.ReadFile(p); string(after) != string(before) {
				t.Errorf("file changed: %q", after)
			}
			left, _ := filepath.Glob(filepath.Join(fsys.env.Home, ".*forkwatch-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestConcurrentSet: two processes setting at once, serialised by Lock,
// end in a consistent file with one block.
func TestConcurrentSet(t *testing.T) {
	fsys := newFakeSystem(t, "linux")
	os.WriteFile(filepath.Join(fsys.env.Home, ".zshrc"), []byte("a\n"), 0o644)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(on bool) {
			defer wg.Done()
			unlock, err := Lock(fsys.env.SupportDir)
			if err != nil {
				errs <- err
				return
			}
			defer unlock()
			errs <- (&Ulimit{Env: fsys.env}).Set(ctx, on)
		}(i%2 == 0)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(fsys.env.Home, ".zshrc"))
	if n := strings.Count(string(b), BeginMarker); n > 1 {
		t.Errorf("%d blocks: %q", n, b)
	}
}

// TestCommandFaults: a hung launchctl times out, a missing one is named.
func TestCommandFaults(t *testing.T) {
	newFakeSystem(t, "darwin")
	t.Setenv("FAKE_LAUNCHCTL_HANG", "1")
	start := time.Now()
	_, err := syscmd.Run(ctx, 300*time.Millisecond, "launchctl", "getenv", "X")
	if !errors.Is(err, syscmd.ErrTimeout) || time.Since(start) > 3*time.Second {
		t.Errorf("hung launchctl: %v after %v", err, time.Since(start))
	}
	t.Setenv("PATH", t.TempDir())
	_, err = syscmd.Run(ctx, 0, "launchctl", "getenv", "X")
	if !errors.Is(err, syscmd.ErrCommandMissing) || !strings.Contains(err.Error(), "launchctl") {
		t.Errorf("missing launchctl: %v", err)
	}
	st := (&ForkSafety{Env: Env{Home: t.TempDir()}}).State(ctx)
	if st.Error == "" {
		t.Error("state without launchctl should carry an error")
	}
}

// TestLoginItem: the LaunchAgent starts the app's real path, is loaded with
// bootstrap, is fixed up when the app moved, and is unloaded with bootout.
func TestLoginItem(t *testing.T) {
	fsys := newFakeSystem(t, "darwin")
	l := &Login{Env: fsys.env}
	if _, err := SetAndVerify(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	j, _, err := readJob(l.agentPath())
	if err != nil || j.ProgramArguments[0] != fsys.env.Exe || j.LimitLoadToSessionType != "Aqua" || !j.RunAtLoad {
		t.Fatalf("agent: %+v %v", j, err)
	}
	if !strings.Contains(fsys.log(t), "launchctl bootstrap gui/501 "+l.agentPath()) {
		t.Errorf("not bootstrapped: %s", fsys.log(t))
	}
	moved := fsys.env
	moved.Exe = "/Users/me/Applications/Forkwatch.app/Contents/MacOS/forkwatch"
	if st := (&Login{Env: moved}).State(ctx); len(st.Conflicts) != 1 {
		t.Errorf("moved app not noticed: %+v", st)
	}
	if fixed, err := FixLoginItem(moved); !fixed || err != nil {
		t.Fatalf("fix: %v %v", fixed, err)
	}
	if j, _, _ := readJob(l.agentPath()); j.ProgramArguments[0] != moved.Exe {
		t.Errorf("not fixed: %v", j.ProgramArguments)
	}
	if _, err := SetAndVerify(ctx, l, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fsys.log(t), "launchctl bootout gui/501/com.forkwatch.app") {
		t.Errorf("not booted out: %s", fsys.log(t))
	}
}

func TestDesktopExec(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/forkwatch": `"/usr/bin/forkwatch"`,
		`/home/a b/$x"y%`:    `"/home/a b/\\$x\\"y%%"`,
		"/tmp/new\nline/fw":  `"/tmp/new line/fw"`,
	} {
		if got := desktopExec(in); got != want {
			t.Errorf("desktopExec(%q) = %s, want %s", in, got, want)
		}
	}
}
