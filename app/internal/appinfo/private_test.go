package appinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPrivateSupportDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "support")
	os.Mkdir(dir, 0o755)
	os.Chmod(dir, 0o755)
	if err := PrivateSupportDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
	fresh := filepath.Join(t.TempDir(), "a", "b")
	if err := PrivateSupportDir(fresh); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o700 {
		t.Errorf("new folder mode %o", fi.Mode().Perm())
	}
}
