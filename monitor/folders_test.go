package monitor

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchFoldersPicksUpLateFolder: a folder missing at start (as
// ~/Library/LaunchAgents is before the first agent) is watched once it
// appears, and again after it is removed and made anew.
func TestWatchFoldersPicksUpLateFolder(t *testing.T) {
	home := t.TempDir()
	agents := filepath.Join(home, "Library", "LaunchAgents")
	changes := make(chan struct{}, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go WatchFolders(ctx, []string{agents}, 50*time.Millisecond, func() { changes <- struct{}{} })
	time.Sleep(200 * time.Millisecond)
	expect := func(what string) {
		t.Helper()
		select {
		case <-changes:
		case <-time.After(5 * time.Second):
			t.Fatalf("no change noticed: %s", what)
		}
		time.Sleep(200 * time.Millisecond) // let the settle interval pass and drain
		for len(changes) > 0 {
			<-changes
		}
	}
	if err := os.MkdirAll(agents, 0o755); err != nil {
		t.Fatal(err)
	}
	expect("folder created")
	os.WriteFile(filepath.Join(agents, "com.example.plist"), []byte("<plist/>"), 0o644)
	expect("a file in the folder that appeared after start")
	os.RemoveAll(agents)
	os.MkdirAll(agents, 0o755)
	expect("folder made again")
	time.Sleep(300 * time.Millisecond)
	for len(changes) > 0 {
		<-changes
	}
	os.WriteFile(filepath.Join(agents, "com.example.other.plist"), []byte("<plist/>"), 0o644)
	expect("a file in the folder made again")
}
