package desktop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeChooser writes a fake osascript or zenity that logs its arguments,
// prints $FAKE_OUT and exits with $FAKE_EXIT.
func fakeChooser(t *testing.T, bin, name string) string {
	log := filepath.Join(bin, name+".log")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> " + log + "; done\n" +
		"printf '%s' \"$FAKE_OUT\"\n[ -n \"$FAKE_STDERR\" ] && echo \"$FAKE_STDERR\" >&2\nexit ${FAKE_EXIT:-0}\n"
	os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755)
	return log
}

// TestChooseFolder: on macOS osascript's own choose folder (the prompt as
// an argument, no `tell application`: no Apple Event to another app), the
// POSIX path read back; Cancel (-128) is not an error; on Linux zenity's
// directory chooser, exit 1 is Cancel, and no zenity means no chooser.
func TestChooseFolder(t *testing.T) {
	bin := t.TempDir()
	t.Setenv("PATH", bin)
	ctx := context.Background()
	if ChooserFor("linux") != nil {
		t.Fatal("a chooser without zenity")
	}
	osa := fakeChooser(t, bin, "osascript")
	t.Setenv("FAKE_OUT", "/Users/u/src/shop/\n")
	dir, ok, err := ChooserFor("darwin")(ctx, `Pick "one"`)
	if err != nil || !ok || dir != "/Users/u/src/shop" {
		t.Fatalf("choose: %q %v %v", dir, ok, err)
	}
	b, _ := os.ReadFile(osa)
	if !strings.Contains(string(b), "choose folder with prompt (item 1 of argv)") || !strings.Contains(string(b), "\nPick \"one\"\n") || strings.Contains(string(b), "tell application") {
		t.Errorf("osascript args:\n%s", b)
	}
	t.Setenv("FAKE_OUT", "")
	t.Setenv("FAKE_EXIT", "1")
	t.Setenv("FAKE_STDERR", "execution error: User canceled. (-128)")
	if dir, ok, err := ChooserFor("darwin")(ctx, "p"); ok || err != nil || dir != "" {
		t.Errorf("cancel: %q %v %v", dir, ok, err)
	}
	fakeChooser(t, bin, "zenity")
	t.Setenv("FAKE_STDERR", "")
	choose := ChooserFor("linux")
	if choose == nil {
		t.Fatal("no chooser with zenity on PATH")
	}
	if dir, ok, err := choose(ctx, "p"); ok || err != nil || dir != "" {
		t.Errorf("zenity cancel: %q %v %v", dir, ok, err)
	}
	t.Setenv("FAKE_EXIT", "0")
	t.Setenv("FAKE_OUT", "relative/path\n")
	if _, ok, err := choose(ctx, "p"); ok || err == nil {
		t.Errorf("a relative path was taken: %v %v", ok, err)
	}
	t.Setenv("FAKE_OUT", "/home/u/src/shop\n")
	if dir, ok, err := choose(ctx, "p"); !ok || err != nil || dir != "/home/u/src/shop" {
		t.Errorf("zenity: %q %v %v", dir, ok, err)
	}
}
