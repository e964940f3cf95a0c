package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSigtermKeepsLastCrash runs the real app on a throwaway X desktop
// (../shared/tools/xdesk), drops a real crash report into its folder, and
// sends SIGTERM as soon as the menu lists it, well within the second
// after which the watcher saves. SIGTERM cancels the app's context, the
// controller's loop quits the tray, and the tray's exit callback runs the
// stop sequence; the Linux binding then ends the process at once, as
// [NSApp terminate:] does on macOS after onExit (app/tray/binding.go), so
// code after the tray's Run never runs here either. A restart's
// `forkwatch history` must list the crash. With onExit doing only the
// cancel, as before, it did not: the process ended before the save.
func TestSigtermKeepsLastCrash(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the throwaway desktop is X11 (Xvfb); on macOS the tray is Cocoa")
	}
	if testing.Short() {
		t.Skip("desktop test skipped in -short mode")
	}
	xdesk, err := filepath.Abs(filepath.Join("..", "..", "shared", "tools", "xdesk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(xdesk); err != nil {
		t.Skipf("no %s beside the repository: %v", xdesk, err)
	}
	for _, tool := range []string{"Xvfb", "trayer", "dunst", "dbus-daemon", "dbus-monitor"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("desktop test needs %s (.ci/run installs it)", tool)
		}
	}
	bin := forkwatchBin(t)
	xenv := append(os.Environ(), "XDESK="+t.TempDir(), "XDESK_DISPLAY=:78")
	x := func(args ...string) string {
		cmd := exec.Command(xdesk, args...)
		cmd.Env = xenv
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("xdesk %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	x("start")
	t.Cleanup(func() { x("stop") })

	home := t.TempDir()
	reports, cores := filepath.Join(home, "DiagnosticReports"), filepath.Join(home, "cores")
	os.MkdirAll(reports, 0o755)
	os.MkdirAll(cores, 0o755)
	dump := filepath.Join(home, "menu.json")
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "PATH=/usr/bin:/bin", "LANG=C", "FORKWATCH_MENU_DUMP=" + dump}
	for _, line := range strings.Split(x("env"), "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			env = append(env, kv)
		}
	}
	app := exec.Command(bin, "--reports-dir", reports, "--cores-dir", cores)
	app.Env = env
	var logBuf strings.Builder
	app.Stdout, app.Stderr = &logBuf, &logBuf
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	t.Cleanup(func() { app.Process.Kill() })
	menu := func() string { b, _ := os.ReadFile(dump); return string(b) }
	eventually(t, "the app to show its menu", func() bool { return strings.Contains(menu(), "No crashes today") })

	dropCrash(t, home, reports)
	eventually(t, "the crash in the menu", func() bool { return strings.Contains(menu(), "Python (35706)") })
	if err := app.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the app ended with %v after SIGTERM\n%s", err, logBuf.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the app did not end within 15 s of SIGTERM\n%s", logBuf.String())
	}
	out, errOut, code := runSplit(t, env, "history", "--json", "--all")
	if code != 0 || !strings.Contains(out, "35706") {
		t.Errorf("after a restart the history does not list the crash recorded just before SIGTERM: exit %d\n%s%s\napp log:\n%s", code, out, errOut, logBuf.String())
	}
}
