package history

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLockAndChmodNoFollow: the lock file and a -wal file planted as links
// to a file outside the support folder: the lock is refused and the
// target neither created nor opened; the chmod that makes the -wal private
// leaves the link's target's mode as it was. Control: a real lock file is
// taken and a real -wal made 0600.
func TestLockAndChmodNoFollow(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	lock := filepath.Join(dir, "history.lock")
	os.Symlink(victim, lock)
	if unlock, err := lockFile(lock); err == nil {
		unlock()
		t.Error("locked through a link")
	}
	if _, err := os.Lstat(victim); err == nil {
		t.Error("the link's target was created")
	}
	os.WriteFile(victim, []byte("x"), 0o644)
	if err := chmodNoFollow(lock, 0o600); err == nil {
		t.Error("chmod through a link")
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o644 {
		t.Errorf("victim mode %v", fi.Mode().Perm())
	}
	own := filepath.Join(dir, "own.lock")
	unlock, err := lockFile(own)
	if err != nil {
		t.Fatalf("control: %v", err)
	}
	unlock()
	wal := filepath.Join(dir, "history.db-wal")
	os.WriteFile(wal, nil, 0o644)
	if err := chmodNoFollow(wal, 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(wal); fi.Mode().Perm() != 0o600 {
		t.Errorf("control chmod: %v", fi.Mode().Perm())
	}
}
