package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWatchFolderRecreated: the watched report folder deleted and made
// again (rm -rf X && mkdir X), then a report dropped into the new folder:
// `watch` reports it, with fsnotify naming files (Linux) and watching
// folders only (--folder-only, how macOS's kqueue notifier is driven).
// A new folder renamed over the old one is the same case without the race
// (the event about the old folder is always handled after the new one
// exists). Before the fix the watch stayed on the old, deleted folder.
func TestWatchFolderRecreated(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"files", "folder-only"} {
		t.Run(mode, func(t *testing.T) {
			s := newWatchSetup(t)
			os.MkdirAll(s.reports, 0o755)
			var extra []string
			if mode == "folder-only" {
				extra = append(extra, "--folder-only")
			}
			p := startForkwatch(t, nil, s.args(extra...)...)
			p.ready()
			for round := 0; round < 3; round++ {
				if round == 1 {
					// A new folder renamed over the (emptied) old one: at
					// once, so the event about the old folder always
					// arrives when the new one already stands there.
					ents, _ := os.ReadDir(s.reports)
					for _, e := range ents {
						os.RemoveAll(filepath.Join(s.reports, e.Name()))
					}
					settle()
					fresh := filepath.Join(s.dir, "fresh")
					os.Mkdir(fresh, 0o755)
					// rename(2) itself: os.Rename refuses an existing folder.
					if err := syscall.Rename(fresh, s.reports); err != nil {
						t.Fatal(err)
					}
					settle()
				} else {
					if err := os.RemoveAll(s.reports); err != nil {
						t.Fatal(err)
					}
					if err := os.Mkdir(s.reports, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				stage := filepath.Join(s.dir, "stage.ips")
				copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), stage)
				// A different crash each round: same report, new incident id.
				data, _ := os.ReadFile(stage)
				data = bytes.ReplaceAll(data, []byte("A4F21F7F-69A5-49F4-AAC0-B6595F5C5D55"), []byte(fmt.Sprintf("%08X-0000-0000-0000-%012X", round+1, round+1)))
				os.WriteFile(stage, data, 0o644)
				if err := os.Rename(stage, filepath.Join(s.reports, fmt.Sprintf("monerod-%d.ips", round))); err != nil {
					t.Fatal(err)
				}
				t.Logf("round %d", round)
				ev := p.event(wait)
				if ev["kind"] != "crash" || filepath.Dir(ev["path"].(string)) != s.reports {
					t.Fatalf("round %d: got %v, want the crash in the recreated folder", round, ev)
				}
			}
		})
	}
}
