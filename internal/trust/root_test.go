package trust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefuseRootWithUserHome: as root, a home folder of uid 65534 (root
// started with `sudo -E`), a support folder (not yet made) under it, and a
// root-owned-looking support path reached through the user's folder are
// refused; root's own home and any non-root euid pass (the controls).
func TestRefuseRootWithUserHome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a folder away")
	}
	base := t.TempDir()
	userHome := filepath.Join(base, "Users", "ana")
	os.MkdirAll(filepath.Join(userHome, "Library"), 0o755)
	os.Chown(userHome, 65534, 65534)
	rootHome := filepath.Join(base, "var", "root")
	os.MkdirAll(rootHome, 0o700)

	for _, c := range []struct {
		name string
		euid int
		dirs []string
		want string // "" = allowed
	}{
		{"sudo -E: the user's home", 0, []string{userHome}, userHome + " belongs to uid 65534"},
		{"support folder not made yet", 0, []string{filepath.Join(userHome, "Library", "Application Support", "Forkwatch")}, userHome + " belongs to uid 65534"},
		{"root's own home", 0, []string{rootHome, filepath.Join(rootHome, "Library", "Application Support", "Forkwatch")}, ""},
		{"the user themself", 65534, []string{userHome}, ""},
		{"any other user", 501, []string{rootHome}, ""},
	} {
		err := RefuseRootWithUserHome(c.euid, c.dirs...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.Is(err, ErrRootWithUserHome) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "run as the user, not with sudo: ")):
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
