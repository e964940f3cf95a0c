package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/app/tray"
	"github.com/forkwatch/forkwatch/app/tray/traytest"
	"github.com/forkwatch/forkwatch/monitor/history"
)

// TestQuitKeepsLastCrash runs the app command in this process on
// traytest.MacBinding, which ends as the menu bar ends on macOS: Quit
// calls onExit on the main thread and the process is over when onExit
// returns (systray v1.2.2's [NSApp terminate:]; Apple: "the app will
// terminate after this method returns"), so nothing after the tray's Run
// runs. What is on disk at that instant is copied aside (OnExited) and is
// all a restart finds. A crash the watcher recorded a moment before (it
// saves a second after the last change) must be in that copy's history,
// and the one-instance lock must be free, however the app was told to
// quit: Quit in the menu, the system's quit (logout, Homebrew's
// `uninstall quit:`), or the cancelled context SIGTERM and SIGINT give.
// Before the whole stop sequence moved into onExit (which was only the
// cancel) the lock and the history's own lock were still held, so a
// restart would have been refused and kept no history; whether the last
// crash was saved was left to a race between the watcher's goroutine and
// the end of the process (here the copy; TestSigtermKeepsLastCrash runs
// the real binary, where the process does end). The menu run also appends a Forkwatch block to
// ~/.zshrc in place and waits for the toggle's check mark: the toggles'
// files are watched as files (settings.Watch), since the folder watch
// sees no in-place write on macOS and, like it, the Linux stand-in.
func TestQuitKeepsLastCrash(t *testing.T) {
	if runtime.GOOS != "linux" {
		// The app runs in this process with the real notifier, which on
		// a Mac would post real notifications through osascript.
		t.Skip("the stand-in run is for Linux")
	}
	for _, how := range []string{"menu", "logout", "signal"} {
		t.Run(how, func(t *testing.T) { quitKeepsLastCrash(t, how) })
	}
}

func quitKeepsLastCrash(t *testing.T, how string) {
	home := t.TempDir()
	reports, cores := filepath.Join(home, "DiagnosticReports"), filepath.Join(home, "cores")
	for _, d := range []string{reports, cores, filepath.Join(home, "fakebin")} {
		os.MkdirAll(d, 0o755)
	}
	zshrc := filepath.Join(home, ".zshrc")
	os.WriteFile(zshrc, []byte("export A=1\n"), 0o644)
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"), "PATH": filepath.Join(home, "fakebin") + ":/usr/bin:/bin",
		"DISPLAY": ":0", "WAYLAND_DISPLAY": "", "DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(home, "no-bus"), "SHELL": "/bin/zsh",
		"FORKWATCH_MENU_DUMP": "",
	} {
		t.Setenv(k, v)
	}
	prev := slog.Default() // the app sets its own logger as the default
	t.Cleanup(func() { slog.SetDefault(prev) })
	support := appinfo.SupportDir()
	after := filepath.Join(t.TempDir(), "after-exit")
	var lockErr, copyErr, dbErr error
	b := traytest.NewMacBinding()
	b.OnExited = func() { // the process ends here: keep what is on disk now
		copyErr = copyTree(support, after)
		release, err := appinfo.AcquireInstance(support)
		if lockErr = err; err == nil {
			release()
		}
		// A restart opens the history for writing, which takes its lock.
		if d, err := history.Open(appinfo.HistoryDBPath(), history.Options{PruneEvery: -1}); err == nil {
			d.Close()
		} else {
			dbErr = err
		}
	}
	ctx, signal := context.WithCancel(context.Background())
	defer signal()
	wf := &service.Folders{ReportDirs: []string{reports}, CoresDir: cores, CoresSet: true}
	tun := &service.Tuning{QuietAfter: 30 * time.Second, CoreSettle: 10 * time.Second, SummaryEvery: time.Minute}
	go runAppWith(ctx, wf, tun, io.Discard, b.Run) // never returns, as on macOS

	<-b.Ready()
	eventually(t, "the toggles read", func() bool {
		return findItem(b.Items(), "toggle.ulimit-core").Title == "Limit core files to 0 in new shells (ulimit -c 0)"
	})
	if how == "menu" {
		appendBlockInPlace(t, zshrc)
		eventually(t, "the ulimit toggle checked after an in-place append to ~/.zshrc", func() bool { return findItem(b.Items(), "toggle.ulimit-core").Checked })
	}
	dropCrash(t, home, reports)
	eventually(t, "the crash in the menu", func() bool { return strings.Contains(findItem(b.Items(), "crash.0").Title, "Python (35706)") })
	switch how { // at once: the watcher saves a second after its last change
	case "menu":
		b.Click("quit")
	case "logout":
		b.Terminate()
	case "signal":
		signal()
	}
	select {
	case <-b.Exited():
	case <-time.After(15 * time.Second):
		t.Fatal("the app did not end")
	}
	if copyErr != nil {
		t.Fatal(copyErr)
	}
	if lockErr != nil {
		t.Errorf("the one-instance lock is still held when the process ends: %v", lockErr)
	}
	if dbErr != nil {
		t.Errorf("a restart could not open the history: %v", dbErr)
	}
	checkHistoryHas(t, filepath.Join(after, "history.db"), 35706)
}

// dropCrash puts a real report of a Python child killed by the
// Objective-C check (fontbakery#2982) into reports, renamed in whole.
func dropCrash(t *testing.T, home, reports string) {
	t.Helper()
	data, err := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "\nBinary Images:\n       0x10c7a5000 -        0x10c7c6ff7 +Python (3.7.7) <9F3A2D16> /usr/local/bin/python3\n"...)
	tmp := filepath.Join(home, ".report.tmp")
	os.WriteFile(tmp, data, 0o644)
	if err := os.Rename(tmp, filepath.Join(reports, "Python_2020-07-17-144047_host.crash")); err != nil {
		t.Fatal(err)
	}
}

// appendBlockInPlace appends to zshrc, in place (O_APPEND, the file keeps
// its inode), the block `forkwatch set ulimit-core on` writes: made by the
// real binary in a scratch home whose .zshrc starts the same way.
func appendBlockInPlace(t *testing.T, zshrc string) {
	t.Helper()
	old, _ := os.ReadFile(zshrc)
	scratch := t.TempDir()
	os.WriteFile(filepath.Join(scratch, ".zshrc"), old, 0o644)
	env := []string{"HOME=" + scratch, "PATH=/usr/bin:/bin", "XDG_CONFIG_HOME=" + filepath.Join(scratch, ".config"), "SHELL=/bin/zsh", "LANG=C"}
	if _, errOut, code := runSplit(t, env, "set", "ulimit-core", "on"); code != 0 {
		t.Fatalf("set ulimit-core on in the scratch home: %d %s", code, errOut)
	}
	full, _ := os.ReadFile(filepath.Join(scratch, ".zshrc"))
	if !bytes.HasPrefix(full, old) || len(full) == len(old) {
		t.Fatalf("the scratch .zshrc was not appended to:\n%s", full)
	}
	f, err := os.OpenFile(zshrc, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(full[len(old):]); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// checkHistoryHas opens the history a restart would open and looks for
// the crash of pid.
func checkHistoryHas(t *testing.T, db string, pid int) {
	t.Helper()
	r, err := history.OpenReader(db, time.Local)
	if err != nil {
		t.Fatalf("the history after the process ended: %v", err)
	}
	defer r.Close()
	crashes, err := r.Crashes(context.Background(), time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range crashes {
		if c.PID == pid {
			return
		}
	}
	t.Errorf("the crash of pid %d recorded just before the app quit is not in the history after it ended (%d crashes there)", pid, len(crashes))
}

// copyTree copies the regular files under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o600)
	})
}

var _ tray.RunFunc = traytest.NewMacBinding().Run
