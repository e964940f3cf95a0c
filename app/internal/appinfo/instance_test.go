package appinfo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/safefs"
)

// TestAcquireInstanceNoFollow is issue 28's attack on the one-instance
// lock: as root, a forkwatch.pid planted as a link to a root-owned file
// (and a support folder that is itself a link to a root folder holding
// such a file) made `watch` truncate that file and write its pid into it.
// The lock is now opened without following links: both are refused and the
// file keeps its bytes. The control: a plain support folder is locked, a
// second taker is told the first one's pid, and the lock is free again
// after release.
func TestAcquireInstanceNoFollow(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is root following a link to a root file")
	}
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	const content = "root's file\n"
	os.WriteFile(victim, []byte(content), 0o600)

	linkedPid := filepath.Join(base, "support-a")
	os.Mkdir(linkedPid, 0o700)
	os.Symlink(victim, filepath.Join(linkedPid, InstanceLockName))

	rootDir := filepath.Join(base, "rootdir")
	os.Mkdir(rootDir, 0o755)
	os.WriteFile(filepath.Join(rootDir, InstanceLockName), []byte(content), 0o600)
	linkedDir := filepath.Join(base, "support-b")
	os.Symlink(rootDir, linkedDir)

	for _, support := range []string{linkedPid, linkedDir} {
		release, err := AcquireInstance(support)
		if err == nil {
			release()
			t.Errorf("%s: locked through a link", support)
		} else if !errors.Is(err, safefs.ErrUnsafe) {
			t.Errorf("%s: err = %v, want a refusal", support, err)
		}
	}
	for _, p := range []string{victim, filepath.Join(rootDir, InstanceLockName)} {
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("%s changed through the link: %q", p, b)
		}
	}

	// The control: a real support folder (made if missing).
	support := filepath.Join(base, "support-c", "Forkwatch")
	release, err := AcquireInstance(support)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(support, InstanceLockName)); string(b) != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid", b)
	}
	if _, err := AcquireInstance(support); !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Errorf("second taker: %v", err)
	}
	release()
	again, err := AcquireInstance(support)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}

// TestOpenLogNoFollow: the app's log is appended to only as a regular
// file of the user's: a forkwatch.log that is a link to a root-owned file
// is refused and the file keeps its bytes; the control appends, and a log
// over its size is moved aside first.
func TestOpenLogNoFollow(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is root following a link to a root file")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("root's\n"), 0o600)
	os.MkdirAll(LogDir(), 0o700)
	link := filepath.Join(LogDir(), LogName)
	os.Symlink(victim, link)
	if f, err := OpenLog(1 << 20); !errors.Is(err, safefs.ErrUnsafe) {
		t.Errorf("linked log: err = %v", err)
		if f != nil {
			f.WriteString("appended\n")
			f.Close()
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "root's\n" {
		t.Errorf("the root file changed: %q", b)
	}
	os.Remove(link)
	for i := 0; i < 2; i++ {
		f, err := OpenLog(4)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("line\n")
		f.Close()
	}
	if b, _ := os.ReadFile(link + ".1"); string(b) != "line\n" {
		t.Errorf("rotated: %q", b)
	}
	if b, _ := os.ReadFile(link); string(b) != "line\n" {
		t.Errorf("log: %q", b)
	}
}
