package chromium

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
