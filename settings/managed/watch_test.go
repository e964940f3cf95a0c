package managed

import (
	"os/exec"
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
