package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// user is the uid whose HOME root was run with (nobody: any uid not 0).
const user = 65534

// TestRootWithUserHome: root run with a user's HOME (`sudo -E`) writing the
// user's start-up file. The user made ~/.profile a link to a root-owned
// file, left a dangling link into a root folder, and owns the file and
// the folder. Root refuses all four and changes nothing; the controls: the
// same files written for the user (Writer{UID: user}) and root's own link
// to root's own file are written.
func TestRootWithUserHome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir()
	rootDir := filepath.Join(base, "etc")
	os.Mkdir(rootDir, 0o755)
	rootFile := filepath.Join(rootDir, "sudoers")
	os.WriteFile(rootFile, []byte("root only\n"), 0o644)
	home := filepath.Join(base, "home")
	os.Mkdir(home, 0o755)
	os.Chown(home, user, user)
	mk := func(name, target string) string {
		p := filepath.Join(home, name)
		if target == "" {
			os.WriteFile(p, []byte("user's\n"), 0o644)
			os.Chown(p, user, user)
		} else {
			os.Symlink(target, p)
			os.Lchown(p, user, user)
		}
		return p
	}
	link := mk(".profile", rootFile)
	dangling := mk(".zprofile", filepath.Join(rootDir, "new"))
	own := mk(".zshrc", "")
	fresh := filepath.Join(home, ".bash_profile")

	root := Writer{UID: 0}
	for _, p := range []string{link, dangling, own, fresh} {
		if err := root.Write(p, []byte("ulimit -c 0\n"), 0o644); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("root wrote %s: err = %v", p, err)
		}
	}
	if b, _ := os.ReadFile(rootFile); string(b) != "root only\n" {
		t.Errorf("root's file changed through the user's link: %q", b)
	}
	for _, p := range []string{filepath.Join(rootDir, "new"), fresh} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("root created %s", p)
		}
	}
	if b, _ := os.ReadFile(own); string(b) != "user's\n" {
		t.Errorf("the user's file changed: %q", b)
	}

	// Controls.
	if err := (Writer{UID: user}).Write(own, []byte("edited\n"), 0o644); err != nil {
		t.Errorf("the user's own file for the user: %v", err)
	}
	if fi, _ := os.Stat(own); ownerOf(fi).uid != user {
		t.Errorf("owner not kept")
	}
	if err := (Writer{UID: user}).Write(link, []byte("x\n"), 0o644); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("the user through a link to root's file: err = %v", err)
	}
	rootLink := filepath.Join(rootDir, "link")
	os.Symlink(rootFile, rootLink)
	if err := root.Write(rootLink, []byte("root's edit\n"), 0o644); err != nil {
		t.Errorf("root's own link to root's file: %v", err)
	}
	if b, _ := os.ReadFile(rootFile); string(b) != "root's edit\n" {
		t.Errorf("control write: %q", b)
	}
}
