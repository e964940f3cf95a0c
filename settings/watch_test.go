package settings

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchSeesInPlaceEdit: the user appends Forkwatch's block to ~/.zshrc
// by hand, in place (`cat >> ~/.zshrc`). On macOS the home folder's kqueue
// watch does not fire for that (kqueue(2): a directory's NOTE_WRITE is for
// entries added, removed or renamed), and the Linux stand-in drops it the
// same way (internal/dirwatch), so only the file's own watch can see it.
// Watch must call onChange, and the toggle then reads on.
func TestWatchSeesInPlaceEdit(t *testing.T) {
	fs := newFakeSystem(t, "darwin")
	zshrc := filepath.Join(fs.env.Home, ".zshrc")
	old := []byte("export PATH=$HOME/bin:$PATH\n")
	if err := os.WriteFile(zshrc, old, 0o644); err != nil {
		t.Fatal(err)
	}
	u := &Ulimit{Env: fs.env}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if u.State(ctx).On {
		t.Fatal("on before the edit")
	}
	changes := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, fs.env, 20*time.Millisecond, func() { changes <- struct{}{} }) }()

	// Armed once a file created in home is noticed.
	for i := 0; ; i++ {
		os.WriteFile(filepath.Join(fs.env.Home, ".probe"), []byte{byte(i)}, 0o644)
		os.Remove(filepath.Join(fs.env.Home, ".probe"))
		select {
		case <-changes:
		case <-time.After(50 * time.Millisecond):
			if i < 200 {
				continue
			}
			t.Fatal("Watch never armed")
		}
		break
	}
	for quiet := false; !quiet; { // the probe's last events, then nothing
		select {
		case <-changes:
		case <-time.After(100 * time.Millisecond):
			quiet = true
		}
	}

	full, err := InsertBlock(old, ulimitBody, true)
	if err != nil || !bytes.HasPrefix(full, old) {
		t.Fatalf("InsertBlock: %v (not an append)", err)
	}
	f, err := os.OpenFile(zshrc, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(full[len(old):])
	f.Close()
	select {
	case <-changes:
	case err := <-done:
		t.Fatalf("Watch returned: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("an in-place append to ~/.zshrc was not noticed")
	}
	if st := u.State(ctx); !st.On {
		t.Errorf("after the append the toggle reads %+v", st)
	}
}

// TestWatchPathsCoverToggles: every file a toggle reads is watched as a
// file, and its folder as a folder.
func TestWatchPathsCoverToggles(t *testing.T) {
	fs := newFakeSystem(t, "darwin")
	fs.env.ZDOTDIR = filepath.Join(fs.env.Home, ".config", "zsh")
	dirs, files := WatchPaths(fs.env)
	has := func(list []string, p string) bool {
		for _, x := range list {
			if x == p {
				return true
			}
		}
		return false
	}
	h := fs.env.Home
	for _, p := range []string{
		filepath.Join(fs.env.ZDOTDIR, ".zshrc"), filepath.Join(fs.env.ZDOTDIR, ".zprofile"),
		filepath.Join(h, ".bash_profile"), filepath.Join(h, ".profile"),
		filepath.Join(h, ".config", "fish", "config.fish"),
		filepath.Join(h, "Library", "LaunchAgents", forkSafetyLabel+".plist"),
		filepath.Join(h, "Library", "LaunchAgents", loginLabel+".plist"),
		(&Coredump{}).daemonPath(),
	} {
		if !has(files, p) {
			t.Errorf("%s is not watched as a file", p)
		}
	}
	for _, d := range []string{h, fs.env.ZDOTDIR, filepath.Join(h, "Library", "LaunchAgents")} {
		if !has(dirs, d) {
			t.Errorf("%s is not watched as a folder", d)
		}
	}
}
