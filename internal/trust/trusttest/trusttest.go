// Package trusttest gives tests a temporary folder that trust.CheckExecutable
// accepts. On Linux os.TempDir() is /tmp, which is world-writable (sticky
// or not, trust refuses what lies below it), so a test that runs a fake
// python from t.TempDir() would see "not run: writable by others (/tmp)".
// On macOS $TMPDIR is already a per-user 0700 folder under /var/folders.
package trusttest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust"
)

// Main runs the tests with TMPDIR pointing at a folder trust accepts: the
// system's when it already passes, else a fresh one under the user's cache
// folder. Use it from TestMain: func TestMain(m *testing.M) { trusttest.Main(m) }.
func Main(m *testing.M) {
	dir, cleanup, err := SafeTempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "trusttest:", err)
		os.Exit(2)
	}
	os.Setenv("TMPDIR", dir)
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// SafeTempDir returns a temporary folder every component of which passes
// trust.CheckFolder for this user, and a function that removes it.
func SafeTempDir() (string, func(), error) {
	uid := os.Getuid()
	if trust.CheckFolder(os.TempDir(), uid) == nil {
		return os.TempDir(), func() {}, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", nil, err
	}
	base = filepath.Join(base, "forkwatch-tests")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(base, "tmp")
	if err != nil {
		return "", nil, err
	}
	if err := trust.CheckFolder(dir, uid); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("no trusted temporary folder: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
