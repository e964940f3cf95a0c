package chromium

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestFind: PATH first; on macOS the app bundles of the runner images
// (Chrome, Chrome for Testing) and ~/Applications; a bundle whose
// executable is missing or not executable does not count; other systems
// do not look for bundles.
func TestFind(t *testing.T) {
	// app writes an executable (or not) at dir/rel.
	app := func(t *testing.T, dir, rel string, mode os.FileMode) string {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	onPath := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return "/usr/bin/" + name, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	for _, tc := range []struct {
		name  string
		goos  string
		path  []string
		setup func(t *testing.T, sys, home string) string // returns the wanted path
	}{
		{name: "linux chromium", goos: "linux", path: []string{"chromium"}, setup: func(*testing.T, string, string) string { return "/usr/bin/chromium" }},
		{name: "PATH before bundles", goos: "darwin", path: []string{"google-chrome"}, setup: func(t *testing.T, sys, _ string) string {
			app(t, sys, Apps[0], 0o755)
			return "/usr/bin/google-chrome"
		}},
		{name: "runner image: Google Chrome.app", goos: "darwin", setup: func(t *testing.T, sys, _ string) string {
			return app(t, sys, "Google Chrome.app/Contents/MacOS/Google Chrome", 0o755)
		}},
		{name: "Chrome for Testing only", goos: "darwin", setup: func(t *testing.T, sys, _ string) string {
			return app(t, sys, "Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing", 0o755)
		}},
		{name: "~/Applications", goos: "darwin", setup: func(t *testing.T, _, home string) string {
			return app(t, home, "Chromium.app/Contents/MacOS/Chromium", 0o755)
		}},
		{name: "not executable", goos: "darwin", setup: func(t *testing.T, sys, _ string) string {
			app(t, sys, Apps[0], 0o644)
			return ""
		}},
		{name: "bundles are not looked for on linux", goos: "linux", setup: func(t *testing.T, sys, _ string) string {
			app(t, sys, Apps[0], 0o755)
			return ""
		}},
		{name: "nothing", goos: "darwin", setup: func(*testing.T, string, string) string { return "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys, home := t.TempDir(), t.TempDir()
			want := tc.setup(t, sys, home)
			got, err := Finder{GOOS: tc.goos, LookPath: onPath(tc.path...), Stat: os.Stat, AppDirs: []string{sys, home}}.Find()
			if want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("got %q, %v; want ErrNotFound", got, err)
				}
				return
			}
			if err != nil || got != want {
				t.Errorf("got %q, %v; want %q", got, err, want)
			}
		})
	}
}

// TestBrowserWithLongHome runs the real browser the way the page and
// screenshot tests do, with a home folder and TMPDIR far longer than a
// Mac's /Users/NAME (a test home under a CI cache folder). First, as a
// control, with the profile and TMPDIR under that home: Chromium must
// refuse to start ("Socket path too long", its singleton socket would pass
// sun_path's 108 bytes here, 104 on macOS), which shows the stand-in
// reproduces the failure; then through NewScratch, where it must render
// the page.
func TestBrowserWithLongHome(t *testing.T) {
	bin, err := Find(runtime.GOOS)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: CI installs a browser", err)
		}
		t.Skipf("%v: apt-get install -y chromium", err)
	}
	home := filepath.Join(t.TempDir(), "Users", strings.Repeat("n", 64))
	longTmp := filepath.Join(home, "Library", "Caches", "forkwatch-tests")
	if err := os.MkdirAll(longTmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("TMPDIR", longTmp)
	if SocketFits(longTmp, runtime.GOOS) {
		t.Fatalf("the test's TMPDIR (%d bytes) is not long enough to matter", len(longTmp))
	}
	run := func(profile string, env []string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+profile, "--dump-dom", "data:text/html,<p id=x>forkwatch</p>")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run(filepath.Join(longTmp, "profile"), os.Environ())
	if err == nil && strings.Contains(out, `<p id="x">forkwatch</p>`) {
		t.Fatalf("the control started: the browser no longer puts its socket under TMPDIR, so this test shows nothing\n%s", out)
	}
	if !strings.Contains(out, "Socket path too long") {
		t.Logf("control failed differently: %v\n%s", err, out)
	}

	s, err := NewScratch(runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Remove() })
	if strings.HasPrefix(s.Dir, home) || !SocketFits(s.Tmp, "darwin") {
		t.Errorf("scratch %s is under the long home or leaves no room on macOS", s.Dir)
	}
	out, err = run(s.Profile, s.Env(os.Environ()))
	if err != nil || !strings.Contains(out, `<p id="x">forkwatch</p>`) {
		t.Fatalf("browser with a short scratch folder: %v\n%s", err, out)
	}
}

// TestSocketFits: the limits of sun_path on each system.
func TestSocketFits(t *testing.T) {
	mac := "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/" // NSTemporaryDirectory's shape
	for _, tc := range []struct {
		tmp, goos string
		want      bool
	}{
		{"/tmp/fwc-1234567890/t", "darwin", true},
		{"/tmp/fwc-1234567890/t", "linux", true},
		{mac + "fwc-1234567890/t", "darwin", false}, // 49 + 17 + 45 > 104
		{"/home/runner/work/_temp/fwc-1234567890/t", "linux", true},
		{"/Users/" + strings.Repeat("n", 64) + "/t", "darwin", false},
	} {
		if got := SocketFits(tc.tmp, tc.goos); got != tc.want {
			t.Errorf("SocketFits(%q, %s) = %v", tc.tmp, tc.goos, got)
		}
	}
}
