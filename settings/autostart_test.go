package settings

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestLoginItemOffRemovesOnlyOurAutostartFolder: on Linux, turning the
// login item on in a home without ~/.config/autostart creates it (and
// records that); off removes the entry and the folder, now empty. A folder
// the user had, or one that holds another entry, stays. Issue 32: an empty
// autostart folder of Forkwatch's was left behind.
func TestLoginItemOffRemovesOnlyOurAutostartFolder(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name        string
		before      func(dir string)
		addOther    bool
		wantRemoved bool
	}{
		{"created by Forkwatch, empty", nil, false, true},
		{"created by Forkwatch, another entry since", nil, true, false},
		{"the user's", func(dir string) { os.MkdirAll(dir, 0o755) }, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := newFakeSystem(t, "linux")
			l := &Login{Env: fsys.env}
			dir := filepath.Join(fsys.env.Home, ".config", "autostart")
			if c.before != nil {
				c.before(dir)
			}
			if _, err := SetAndVerify(ctx, l, true); err != nil {
				t.Fatal(err)
			}
			if c.addOther {
				os.WriteFile(filepath.Join(dir, "other.desktop"), []byte("[Desktop Entry]\n"), 0o644)
			}
			if _, err := SetAndVerify(ctx, l, false); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "forkwatch.desktop")); !os.IsNotExist(err) {
				t.Errorf("the entry is still there: %v", err)
			}
			_, err := os.Stat(dir)
			if removed := os.IsNotExist(err); removed != c.wantRemoved {
				t.Errorf("folder removed %v, want %v", removed, c.wantRemoved)
			}
		})
	}
}
