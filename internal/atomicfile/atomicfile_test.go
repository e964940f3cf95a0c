package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFaults: a full disk while writing, and an edit by the user
// between our read and our write, leave the file whole and unchanged.
func TestWriteFaults(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".zshrc")
	os.WriteFile(p, []byte("original\n"), 0o644)
	full := Faults{Write: func(f *os.File, b []byte) (int, error) {
		n, _ := f.Write(b[:len(b)/2])
		return n, errors.New("no space left on device")
	}}
	err := Writer{Faults: full}.write(p, []byte("new content\n"), 0o644, nil)
	if err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "original\n" {
		t.Fatalf("file damaged: %q", b)
	}
	// The user saves the file between our read and our rename.
	race := Faults{BeforeRename: func(string) error {
		return os.WriteFile(p, []byte("user's edit\n"), 0o644)
	}}
	check := func() error {
		cur, _ := os.ReadFile(p)
		if string(cur) != "original\n" {
			return ErrChanged
		}
		return nil
	}
	if err := (Writer{Faults: race}).write(p, []byte("ours\n"), 0o644, check); !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "user's edit\n" {
		t.Fatalf("user's edit lost: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*forkwatch-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
