package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const other = 65534 // the user whose folder root was pointed at, or an attacker

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
}

// TestOpenFileNoFollow: in the support folder, forkwatch.pid planted as a
// link to a root-owned file, a FIFO, and a file of another uid are refused
// and nothing is truncated; os.OpenFile, as the callers used before,
// truncates the link's target (the attack). The control: our own file is
// opened and truncated.
func TestOpenFileNoFollow(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	support := filepath.Join(base, "support")
	os.Mkdir(support, 0o700)
	write := func() { os.WriteFile(victim, []byte("root's\n"), 0o600) }
	write()
	link := filepath.Join(support, "forkwatch.pid")
	os.Symlink(victim, link)

	// The attack, as before.
	if f, err := os.OpenFile(link, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
		f.Close()
	}
	if b, _ := os.ReadFile(victim); len(b) != 0 {
		t.Fatal("os.OpenFile did not truncate through the link: the test cannot see the attack")
	}
	write()

	d, err := OpenDir(support, os.Geteuid())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.OpenFile("forkwatch.pid", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600); !errors.Is(err, ErrUnsafe) {
		t.Errorf("link: err = %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "root's\n" {
		t.Errorf("victim changed: %q", b)
	}
	syscall.Mkfifo(filepath.Join(support, "fifo"), 0o600)
	done := make(chan error, 1)
	go func() { _, err := d.OpenFile("fifo", os.O_RDONLY, 0); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnsafe) {
			t.Errorf("fifo: err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
	theirs := filepath.Join(support, "theirs")
	os.WriteFile(theirs, []byte("theirs\n"), 0o600)
	os.Chown(theirs, other, other)
	if _, err := d.OpenFile("theirs", os.O_RDWR|os.O_TRUNC, 0); !errors.Is(err, ErrUnsafe) {
		t.Errorf("another uid's file: err = %v", err)
	}
	if b, _ := os.ReadFile(theirs); string(b) != "theirs\n" {
		t.Errorf("another uid's file truncated: %q", b)
	}
	if _, err := d.OpenFile("../victim", os.O_RDONLY, 0); !errors.Is(err, ErrUnsafe) {
		t.Errorf("..: err = %v", err)
	}
	// Control.
	os.WriteFile(filepath.Join(support, "own"), []byte("old\n"), 0o600)
	f, err := d.OpenFile("own", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new\n")
	f.Close()
	if b, _ := os.ReadFile(filepath.Join(support, "own")); string(b) != "new\n" {
		t.Errorf("own file: %q", b)
	}
	if b, err := d.ReadFile("own", 100); err != nil || string(b) != "new\n" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
}

// TestOpenDirRefuses: a support folder that is a link (to a root folder),
// one another uid owns (root run with that user's HOME), one others can
// write, and a subfolder that is a link are refused; our own folder opens.
func TestOpenDirRefuses(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	rootDir := filepath.Join(base, "rootdir")
	os.Mkdir(rootDir, 0o700)
	link := filepath.Join(base, "support-link")
	os.Symlink(rootDir, link)
	theirs := filepath.Join(base, "theirs")
	os.Mkdir(theirs, 0o700)
	os.Chown(theirs, other, other)
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	for _, p := range []string{link, theirs, open} {
		if d, err := OpenDir(p, 0); !errors.Is(err, ErrUnsafe) {
			t.Errorf("%s: err = %v", p, err)
			if d != nil {
				d.Close()
			}
		}
	}
	own := filepath.Join(base, "own")
	d, err := MkdirAndOpen(own, 0o700, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	os.Symlink(rootDir, filepath.Join(own, "debug"))
	if _, err := d.Mkdir("debug", 0o700); !errors.Is(err, ErrUnsafe) {
		t.Errorf("linked subfolder: err = %v", err)
	}
	sub, err := d.Mkdir("forktrace", 0o700)
	if err != nil {
		t.Fatalf("control subfolder: %v", err)
	}
	sub.Close()
}
