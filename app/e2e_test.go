package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/tray"
)

// TestDesktopEndToEnd starts the real app on a throwaway X desktop (Xvfb,
// trayer as tray host, dunst as notification server: ../shared/tools/xdesk),
// drops a real crash report into its folder, and checks that a desktop
// notification naming the process was sent over D-Bus, that the menu model
// lists the crash, and that clicking the tray icon opens a menu on screen.
func TestDesktopEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end desktop test skipped in -short mode")
	}
	xdesk, err := filepath.Abs(filepath.Join("..", "..", "shared", "tools", "xdesk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(xdesk); err != nil {
		t.Skipf("no %s beside the repository: %v", xdesk, err)
	}
	for _, tool := range []string{"Xvfb", "trayer", "dunst", "xdotool", "xwd", "convert", "dbus-daemon", "dbus-monitor"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("desktop test needs %s (.ci/run installs it: xvfb trayer dunst xdotool x11-apps imagemagick dbus-x11)", tool)
		}
	}
	bin := forkwatchBin(t)
	xdir := t.TempDir()
	xenv := append(os.Environ(), "XDESK="+xdir, "XDESK_DISPLAY=:79")
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
	reports := filepath.Join(home, "DiagnosticReports")
	cores := filepath.Join(home, "cores")
	os.MkdirAll(reports, 0o755)
	os.MkdirAll(cores, 0o755)
	dump := filepath.Join(home, "menu.json")
	x("run", "env", "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "PATH=/usr/bin:/bin",
		"FORKWATCH_MENU_DUMP="+dump, bin, "--reports-dir", reports, "--cores-dir", cores, "--state", filepath.Join(home, "state.json"),
		"--summary-every", "2s")
	menu := func() string { b, _ := os.ReadFile(dump); return string(b) }
	eventually(t, "the app to show its menu", func() bool { return strings.Contains(menu(), "No crashes today") })
	time.Sleep(time.Second) // let the tray icon embed

	before := filepath.Join(home, "before.png")
	x("shot", before)

	// A real report of a Python child killed by the Objective-C check
	// (fontbakery#2982), with the image list a report on disk ends with.
	data, err := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "\nBinary Images:\n       0x10c7a5000 -        0x10c7c6ff7 +Python (3.7.7) <9F3A2D16> /usr/local/bin/python3\n"...)
	os.WriteFile(filepath.Join(home, ".tmp"), data, 0o644)
	os.Rename(filepath.Join(home, ".tmp"), filepath.Join(reports, "Python_2020-07-17-144047_host.crash"))

	eventually(t, "a desktop notification naming the process", func() bool {
		return strings.Contains(x("notifications"), "Python (pid 35706, parent Python 35705) was killed by the Objective-C fork-safety check")
	})
	eventually(t, "the crash in the menu", func() bool { return strings.Contains(menu(), "Python (35706) — fork-safety") })
	var items []tray.Item
	if err := json.Unmarshal([]byte(menu()), &items); err != nil {
		t.Fatal(err)
	}
	if findItem(items, "seen").Hidden {
		t.Errorf("unseen crash not counted: %+v", findItem(items, "seen"))
	}

	checkRubyCrash(t, x, menu, home, reports)
	checkTrayMenuOpens(t, x, home, before)
	if out, err := os.ReadFile(filepath.Join(xdir, "app.log")); err == nil && strings.Contains(string(out), "panic") {
		t.Errorf("app log shows a panic:\n%s", out)
	}
}

// checkRubyCrash: a Ruby worker killed after fork() today (rails/solid_queue#357's
// report header and frames) is notified too, without Python in the text,
// and counted by runtime (the Python report before it is from 2020).
func checkRubyCrash(t *testing.T, x func(...string) string, menu func() string, home, reports string) {
	t.Helper()
	time.Sleep(2500 * time.Millisecond) // past the 2 s summary window, counted from the first notification
	ruby := strings.Replace(rubyReportSolidQueue, "2024-09-21 15:07:49.9095 -0400", time.Now().Format("2006-01-02 15:04:05.0000 -0700"), 1)
	os.WriteFile(filepath.Join(home, ".tmp"), []byte(ruby), 0o644)
	os.Rename(filepath.Join(home, ".tmp"), filepath.Join(reports, "ruby-2024-09-21-150749_host.crash"))
	eventually(t, "a notification for the Ruby crash", func() bool {
		n := x("notifications")
		return strings.Contains(n, `"Ruby crashed after fork()"`) && strings.Contains(n, "ruby (pid 95102, parent ruby 91642) was killed by the Objective-C fork-safety check.")
	})
	eventually(t, "the Ruby crash in the menu, counted by runtime", func() bool {
		return strings.Contains(menu(), "ruby (95102) — fork-safety") && strings.Contains(menu(), "1 Ruby crash after fork()")
	})
	if n := x("notifications"); strings.Contains(n, "Ruby crashed") && strings.Contains(n[strings.Index(n, "Ruby crashed"):], "Python") {
		t.Errorf("the Ruby notification speaks Python:\n%s", n)
	}
}

// checkTrayMenuOpens clicks the tray icon and waits until the open menu
// covers the dark root window below the tray: the mean brightness of that
// area, against the screenshot before, jumps.
func checkTrayMenuOpens(t *testing.T, x func(...string) string, home, before string) {
	t.Helper()
	x("click-tray")
	b := brightness(t, before)
	after := filepath.Join(home, "after.png")
	var a float64
	for deadline := time.Now().Add(15 * time.Second); ; {
		x("shot", after)
		if a = brightness(t, after); a >= b+0.15 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("brightness under the tray: %.3f before, %.3f with the menu open", b, a)
	if a < b+0.15 {
		t.Errorf("no menu on screen after clicking the tray icon (brightness %.3f -> %.3f)", b, a)
	}
}

// rubyReportSolidQueue is the header, application specific information and
// first frames of the report in rails/solid_queue#357 (comment by
// jmadkins, 2024-09-21: a Ruby 3.3 worker killed by the Objective-C check),
// with the image list a report on disk ends with.
const rubyReportSolidQueue = `Process:               ruby [95102]
Path:                  /Users/USER/*/ruby
Identifier:            ruby
Version:               ???
Code Type:             ARM-64 (Native)
Parent Process:        ruby [91642]
Responsible:           Terminal [1365]
User ID:               501

Date/Time:             2024-09-21 15:07:49.9095 -0400
OS Version:            macOS 15.0 (24A335)
Report Version:        12

Crashed Thread:        5  worker-1

Exception Type:        EXC_CRASH (SIGABRT)
Exception Codes:       0x0000000000000000, 0x0000000000000000

Termination Reason:    Namespace OBJC, Code 1 

Application Specific Information:
crashed on child side of fork pre-exec


Thread 5 Crashed:: worker-1
0   libsystem_kernel.dylib        	       0x18288ce9c __select + 8
1   libruby.3.3.dylib             	       0x1055b5bbc do_select + 524

Binary Images:
       0x104c3c000 -        0x104c3ffff ruby (*) <5b0e37a5-0a7b-3e4e-8a5e-5d0c6e1b1f3e> /Users/USER/*/ruby
`

// brightness is the mean brightness (0..1) of the screen area under the tray.
func brightness(t *testing.T, png string) float64 {
	out, err := exec.Command("convert", png, "-crop", "600x350+424+30", "-colorspace", "Gray", "-format", "%[fx:mean]", "info:").Output()
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("brightness %q: %v", out, err)
	}
	return v
}
