package forktrace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/forkwatch/forkwatch/internal/safefs"
)

// TestUninstallLinkedTracerFolder is issue 28's attack on uninstall: as
// root with the user's HOME, the tracer folder (support/forktrace) is a
// link the user made to a root folder that holds a spool folder (as
// /var holds /var/spool) and an installs.json. os.RemoveAll of
// support/forktrace/spool removed the root folder's spool. Now the tracer
// folder is opened without following links: a linked tracer folder, and a
// support folder of another uid's, are refused before anything is read or
// removed, and the root folder keeps every file. The control: a real
// tracer folder's spool and registry are removed, and the folder too.
func TestUninstallLinkedTracerFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is root following the user's link")
	}
	ctx := context.Background()
	base := t.TempDir()
	rootDir := filepath.Join(base, "var")
	os.MkdirAll(filepath.Join(rootDir, "spool", "cron"), 0o755)
	crontab := filepath.Join(rootDir, "spool", "cron", "root")
	os.WriteFile(crontab, []byte("@reboot /usr/local/bin/backup\n"), 0o600)
	registry := filepath.Join(rootDir, "installs.json")
	os.WriteFile(registry, []byte("[]"), 0o600)

	linked := filepath.Join(base, "home-a", "support")
	os.MkdirAll(linked, 0o700)
	os.Symlink(rootDir, filepath.Join(linked, "forktrace"))

	theirs := filepath.Join(base, "home-b", "support")
	os.MkdirAll(theirs, 0o700)
	os.Symlink(rootDir, filepath.Join(theirs, "forktrace"))
	os.Lchown(filepath.Join(theirs, "forktrace"), 65534, 65534)
	os.Chown(theirs, 65534, 65534)

	for _, support := range []string{linked, theirs} {
		removed, err := New(support, filepath.Dir(support)).UninstallAll(ctx)
		if !errors.Is(err, safefs.ErrUnsafe) || len(removed) > 0 {
			t.Errorf("%s: removed %q, err %v; want refused", support, removed, err)
		}
	}
	for _, p := range []string{crontab, registry} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the root folder lost %s through the user's link", p)
		}
	}
	if _, err := os.Lstat(filepath.Join(linked, "forktrace")); err != nil {
		t.Error("the link was not kept")
	}

	// The control.
	own := filepath.Join(base, "home-c", "support")
	m := New(own, filepath.Dir(own))
	os.MkdirAll(filepath.Join(m.SpoolDir(), "sub"), 0o700)
	os.WriteFile(filepath.Join(m.SpoolDir(), "records"), []byte("x"), 0o600)
	os.WriteFile(m.RegistryPath(), []byte("[]"), 0o600)
	removed, err := m.UninstallAll(ctx)
	if err != nil || len(removed) != 3 {
		t.Errorf("own tracer folder: removed %q, err %v", removed, err)
	}
	if _, err := os.Lstat(m.Dir); err == nil {
		t.Errorf("%s still there", m.Dir)
	}
	// Nothing installed: nothing to do.
	if removed, err := New(filepath.Join(base, "none"), base).UninstallAll(ctx); err != nil || len(removed) > 0 {
		t.Errorf("no support folder: %q %v", removed, err)
	}
}
