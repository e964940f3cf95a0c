package settings

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUninstallOnlyWhatItCreated: created-folders lists a root-owned file
// outside the home folder, a folder that is now a file, one that is now a
// link to a root folder, and a path with "..". The app's own folders are a
// link to a root folder (logs) and a real folder holding a link to one
// (support/forktrace). Uninstall keeps every one of those and what they
// lead to, and says so; the controls: a folder it made is removed, and the
// real support folder is removed (its link, not the link's target).
func TestUninstallOnlyWhatItCreated(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the victims are root's")
	}
	fsys := newFakeSystem(t, "linux")
	env := fsys.env
	home := env.Home
	outside := t.TempDir()
	victimFile := filepath.Join(outside, "important")
	os.WriteFile(victimFile, []byte("root's\n"), 0o600)
	victimDir := filepath.Join(outside, "rootdir")
	os.Mkdir(victimDir, 0o700)
	os.WriteFile(filepath.Join(victimDir, "keep"), []byte("root's\n"), 0o600)
	emptyVictim := filepath.Join(outside, "empty")
	os.Mkdir(emptyVictim, 0o700)

	made := filepath.Join(home, "Library", "LaunchAgents")
	os.MkdirAll(made, 0o755)
	nowFile := filepath.Join(home, ".config", "fwtest")
	os.MkdirAll(filepath.Dir(nowFile), 0o755)
	os.WriteFile(nowFile, []byte("user's\n"), 0o600)
	nowLink := filepath.Join(home, ".local")
	os.Symlink(emptyVictim, nowLink)
	escape := home + "/Library/../../" + filepath.Base(outside)

	os.MkdirAll(env.SupportDir, 0o700)
	os.WriteFile(filepath.Join(env.SupportDir, "created-folders"),
		[]byte(strings.Join([]string{victimFile, made, nowFile, nowLink, escape}, "\n")+"\n"), 0o600)
	os.Symlink(victimDir, filepath.Join(env.SupportDir, "forktrace"))
	logs := filepath.Join(home, "Library", "Logs", "Forkwatch")
	os.MkdirAll(filepath.Dir(logs), 0o755)
	os.Symlink(victimDir, logs)

	var out bytes.Buffer
	err := Uninstall(context.Background(), env, &out, logs, env.SupportDir)
	t.Logf("%v\n%s", err, out.String())
	for _, p := range []string{victimFile, filepath.Join(victimDir, "keep"), emptyVictim, nowFile} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed", p)
		}
	}
	for _, p := range []string{made, env.SupportDir} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("control: %s was not removed", p)
		}
	}
	for _, want := range []string{
		"kept " + victimFile + " (not under the home folder",
		"kept " + nowFile + " (now a file",
		"kept " + nowLink + " (now a link",
		"kept " + escape + " (not under the home folder",
		"kept " + logs + " (now a link",
		"removed " + made,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestSetThroughUsersLinkAsRoot: root run with a user's HOME (uid 65534
// owns it) and the user's start-up files linked to root-owned files: `set
// ulimit-core on` refuses and no root file changes. The control is the
// same edit of root's own files.
func TestSetThroughUsersLinkAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	fsys := newFakeSystem(t, "linux")
	env := fsys.env
	os.Chown(env.Home, 65534, 65534)
	victims := t.TempDir()
	for _, name := range []string{".zshrc", ".zprofile", ".profile", ".bash_profile", ".bashrc", ".zshenv"} {
		v := filepath.Join(victims, name)
		os.WriteFile(v, []byte("root's "+name+"\n"), 0o644)
		os.Symlink(v, filepath.Join(env.Home, name))
		os.Lchown(filepath.Join(env.Home, name), 65534, 65534)
	}
	if _, err := SetAndVerify(context.Background(), &Ulimit{Env: env}, true); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("err = %v, want a refusal naming the link's owner", err)
	}
	ents, _ := os.ReadDir(victims)
	for _, e := range ents {
		if b, _ := os.ReadFile(filepath.Join(victims, e.Name())); string(b) != "root's "+e.Name()+"\n" {
			t.Errorf("%s changed: %q", e.Name(), b)
		}
	}
	// Control: root's own home, root's own files.
	own := newFakeSystem(t, "linux")
	if _, err := SetAndVerify(context.Background(), &Ulimit{Env: own.env}, true); err != nil {
		t.Errorf("control: %v", err)
	}
}

// TestLockNoFollow: settings.lock planted as a link to a root file, and a
// support folder that is a link, are refused (os.OpenFile with O_CREATE,
// as before, would open the root file, and create it were it missing);
// the control: our own folder locks.
func TestLockNoFollow(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	support := filepath.Join(base, "support")
	os.Mkdir(support, 0o700)
	os.Symlink(victim, filepath.Join(support, "settings.lock"))
	if unlock, err := Lock(support); err == nil {
		unlock()
		t.Error("locked through a link")
	}
	if _, err := os.Lstat(victim); err == nil {
		t.Error("the link's target was created")
	}
	linked := filepath.Join(base, "linked")
	os.Symlink(filepath.Join(base, "elsewhere"), linked)
	os.Mkdir(filepath.Join(base, "elsewhere"), 0o700)
	if _, _, err := TryLock(filepath.Join(linked, "forkwatch.pid")); err == nil {
		t.Error("TryLock in a linked folder")
	}
	unlock, err := Lock(t.TempDir())
	if err != nil {
		t.Fatalf("control: %v", err)
	}
	unlock()
}
