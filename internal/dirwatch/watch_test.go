package dirwatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchPicksUpLateFolder: a folder missing at start (as
// ~/Library/LaunchAgents is before the first agent) is watched once it
// appears, and again after it is removed and made anew.
func TestWatchPicksUpLateFolder(t *testing.T) {
	home := t.TempDir()
	agents := filepath.Join(home, "Library", "LaunchAgents")
	changes := make(chan struct{}, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	go WatchReady(ctx, []string{agents}, nil, 50*time.Millisecond, func() { close(ready) }, func() { changes <- struct{}{} })
	<-ready // the first watches are in place: what happens now is seen
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

// appendTo appends a line to path in place, as `echo ... >> ~/.zshrc` does.
func appendTo(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFolderWatchMissesInPlaceWrite: kqueue's EVFILT_VNODE NOTE_WRITE on a
// directory fires when entries are added, removed or renamed, not when a
// file in it is written in place (Apple, kqueue(2), EVFILT_VNODE;
// notify-rs/notify#372; WerWolv/libwolv#49: "kqueue ... only detects
// directory entry changes (create/delete/rename) and ignores content
// modifications to existing files"). The Linux stand-in must miss an
// append to ~/.zshrc through a folder watch too, or tests here pass where
// a Mac's menu goes stale. No fixed wait: a file created in a second
// watched folder after the append is a marker; the notifier's events are
// in order (one inotify queue), so anything for home before the marker
// came from the append.
func TestFolderWatchMissesInPlaceWrite(t *testing.T) {
	home, mark := t.TempDir(), t.TempDir()
	zshrc := filepath.Join(home, ".zshrc")
	if err := os.WriteFile(zshrc, []byte("export PATH=$HOME/bin:$PATH\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := New(true)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, d := range []string{home, mark} {
		if err := n.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	appendTo(t, zshrc, "ulimit -c 0\n")
	if err := os.WriteFile(filepath.Join(mark, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-n.Events():
			if ev.Path == mark {
				return
			}
			t.Fatalf("a folder watch saw an in-place append, which kqueue does not report: %+v", ev)
		case <-time.After(10 * time.Second):
			t.Fatal("the marker's folder event never came")
		}
	}
}

// TestWatchSeesStartupFileEdits: the toggles' start-up files are watched as
// files (a vnode watch on the file on macOS, an inotify watch on the file on
// Linux), so that an append to ~/.zshrc reaches onChange; and again after
// an editor's atomic save replaced the file (the old watch followed the
// old file), and for a symlinked dotfile whose target is appended to.
func TestWatchSeesStartupFileEdits(t *testing.T) {
	home := t.TempDir()
	dotfiles := t.TempDir()
	zshrc := filepath.Join(home, ".zshrc")
	profile := filepath.Join(home, ".bash_profile")
	target := filepath.Join(dotfiles, "bash_profile")
	if err := os.WriteFile(zshrc, []byte("# zsh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("# bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, profile); err != nil {
		t.Fatal(err)
	}
	changes := make(chan struct{}, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, []string{home}, []string{zshrc, profile}, 20*time.Millisecond, func() { changes <- struct{}{} })
	}()
	// Wait until the watches are set: touching a new file in home is a
	// folder event, seen once Watch has armed.
	armed := func() {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for i := 0; ; i++ {
			os.WriteFile(filepath.Join(home, fmt.Sprintf("probe%d", i)), nil, 0o644)
			select {
			case <-changes:
				drain(changes, 100*time.Millisecond)
				return
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatal("Watch never armed")
			}
		}
	}
	expect := func(what string) {
		t.Helper()
		select {
		case <-changes:
			drain(changes, 100*time.Millisecond)
		case err := <-done:
			t.Fatalf("Watch returned: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("no change noticed: %s", what)
		}
	}
	armed()
	appendTo(t, zshrc, "ulimit -c 0\n")
	expect("append to ~/.zshrc")

	// An atomic save (temp file, rename over): the folder sees the rename,
	// and the file is watched anew, so the next in-place append is seen.
	tmp := filepath.Join(home, ".zshrc.tmp")
	os.WriteFile(tmp, []byte("# zsh, saved by an editor\n"), 0o644)
	if err := os.Rename(tmp, zshrc); err != nil {
		t.Fatal(err)
	}
	expect("atomic save of ~/.zshrc")
	appendTo(t, zshrc, "ulimit -c 0\n")
	expect("append to ~/.zshrc after an atomic save")

	appendTo(t, target, "ulimit -c 0\n")
	expect("append to the target of a symlinked ~/.bash_profile")
}

// drain empties ch once nothing has come for quiet.
func drain(ch chan struct{}, quiet time.Duration) {
	for {
		select {
		case <-ch:
		case <-time.After(quiet):
			return
		}
	}
}
