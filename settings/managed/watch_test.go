package managed

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWatchNoFsnotifyOnDarwin: on macOS the managed-preferences watcher
// must not use fsnotify, whose kqueue backend opens one descriptor for
// every entry of a watched folder (fsnotify README, "kqueue (macOS, all
// BSD systems)"): ~/Library/Preferences holds hundreds of plists. It uses
// internal/dirwatch's folder queue, one descriptor per folder. The build
// for darwin is what decides it, so this runs here.
func TestWatchNoFsnotifyOnDarwin(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps (darwin): %v", err)
	}
	deps := strings.Fields(string(out))
	var dirwatch bool
	for _, d := range deps {
		if d == "github.com/fsnotify/fsnotify" {
			t.Error("settings/managed pulls in fsnotify on darwin (one descriptor per file in ~/Library/Preferences)")
		}
		if d == "github.com/forkwatch/forkwatch/internal/dirwatch" {
			dirwatch = true
		}
	}
	if !dirwatch {
		t.Error("settings/managed does not watch through internal/dirwatch")
	}
}

// TestWatchTargetsNeverEmpty: off macOS there is no real managed folder,
// so RealDir (and without the stand-in ManagedDir) is "". The watch must
// not turn "" into the current folder; with the stand-in in use the real
// folder is watched too, so that a profile installed there wins at once.
func TestWatchTargetsNeverEmpty(t *testing.T) {
	home := t.TempDir()
	stand := t.TempDir()
	real := filepath.Join(t.TempDir(), "Managed Preferences")
	cases := []struct {
		name          string
		p             Paths
		wantDir       []string
		wantNoDirFile string
	}{
		{"linux, no stand-in", NewPaths(home, "ann", "", ""), []string{filepath.Join(home, "Library", "Preferences")}, ""},
		{"linux, stand-in", NewPaths(home, "ann", "", stand), []string{stand}, ""},
		{"macos, stand-in", NewPaths(home, "ann", real, stand), []string{stand, real}, filepath.Join(real, Domain+".plist")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dirs, files := watchTargets(tc.p)
			for _, d := range dirs {
				if d == "" || d == "." {
					t.Errorf("watches %q (the current folder): dirs %q", d, dirs)
				}
			}
			for _, f := range files {
				if f == "" || !filepath.IsAbs(f) {
					t.Errorf("watches file %q: files %q", f, files)
				}
			}
			for _, w := range tc.wantDir {
				if !slices.Contains(dirs, w) {
					t.Errorf("dirs %q lack %q", dirs, w)
				}
			}
			if tc.wantNoDirFile != "" && !slices.Contains(files, tc.wantNoDirFile) {
				t.Errorf("files %q lack the real profile %q", files, tc.wantNoDirFile)
			}
		})
	}
}
