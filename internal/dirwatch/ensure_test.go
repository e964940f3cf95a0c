package dirwatch

import (
	"os"
	"path/filepath"
	"testing"
)

// makeOnAdd makes a folder at the worst moment: inside Add of its parent,
// after ensure looked at it (not there yet) and before the parent's watch
// is in place. A folder made then raises no event: inotify and kqueue see
// only what happens after a watch is added.
type makeOnAdd struct {
	Notifier
	at, make string
}

func (m *makeOnAdd) Add(dir string) error {
	if dir == m.at {
		if err := os.MkdirAll(m.make, 0o700); err != nil {
			return err
		}
	}
	return m.Notifier.Add(dir)
}

// TestEnsureFolderMadeDuringWatch: ~/Library/LaunchAgents made while its
// parent's watch is being added (the first agent written by launchctl or
// an installer) is watched once ensure returns. Without the second look
// it stays unwatched, and the login item's toggle goes stale.
func TestEnsureFolderMadeDuringWatch(t *testing.T) {
	for _, folderOnly := range []bool{false, true} {
		home := t.TempDir()
		lib := filepath.Join(home, "Library")
		agents := filepath.Join(lib, "LaunchAgents")
		if err := os.Mkdir(lib, 0o700); err != nil {
			t.Fatal(err)
		}
		n, err := New(folderOnly)
		if err != nil {
			t.Fatal(err)
		}
		s := newWatchSet(&makeOnAdd{Notifier: n, at: lib, make: agents}, []string{agents}, nil)
		s.ensure()
		if !s.watched[agents] {
			t.Errorf("folderOnly=%v: %s, made while its parent's watch was added, is not watched (watched %v, parents %v)", folderOnly, agents, s.watched, s.ancestors)
		}
		n.Close()
	}
}
