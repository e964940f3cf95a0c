//go:build darwin

package dirwatch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKqueueSemantics runs on a Mac (the macOS CI job) against the real
// kqueue what the Linux stand-in copies: an in-place append to a file is
// not an event of its folder's watch (kqueue(2): a directory's NOTE_WRITE
// is for entries added, removed or renamed), and is an event of the file's
// own watch. Markers in a second folder order the check: an event of the
// home folder's watch would be raised during the append itself, so it
// arrives before the second marker's event, which comes in a later kevent.
func TestKqueueSemantics(t *testing.T) {
	home, marks := t.TempDir(), t.TempDir()
	zshrc := filepath.Join(home, ".zshrc")
	if err := os.WriteFile(zshrc, []byte("# zsh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := New(true)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, d := range []string{home, marks} {
		if err := n.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.AddFile(zshrc); err != nil {
		t.Fatal(err)
	}
	appendTo(t, zshrc, "ulimit -c 0\n")
	os.WriteFile(filepath.Join(marks, "1"), nil, 0o644)
	var sawFile, sawMark1 bool
	deadline := time.After(10 * time.Second)
	for !(sawFile && sawMark1) {
		select {
		case ev := <-n.Events():
			switch {
			case ev.Path == zshrc && ev.File:
				sawFile = true
			case ev.Path == marks && ev.Folder:
				sawMark1 = true
			case ev.Path == home:
				t.Fatalf("the folder's kqueue watch fired for an in-place append: %+v", ev)
			}
		case <-deadline:
			t.Fatalf("file event %v, marker %v", sawFile, sawMark1)
		}
	}
	os.WriteFile(filepath.Join(marks, "2"), nil, 0o644)
	for {
		select {
		case ev := <-n.Events():
			if ev.Path == home {
				t.Fatalf("the folder's kqueue watch fired for an in-place append: %+v", ev)
			}
			if ev.Path == marks {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event for the second marker")
		}
	}
}
