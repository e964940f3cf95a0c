package desktop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust"
)

// TestPlantedHelperNotRun (issue 28): the Linux desktop's helpers (xclip,
// wl-copy, gio, zenity) are looked up through the ownership check, as
// every system command is. A helper planted in a PATH folder anybody can
// write is never run — not for Copy, Reveal or Confirm — and nothing
// further down PATH is tried in its place; the error names the folder.
// The control: the same helpers in a folder only the user can write run,
// and xclip gets the text on its standard input.
func TestPlantedHelperNotRun(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	shared, own := filepath.Join(base, "shared"), filepath.Join(base, "own")
	os.Mkdir(shared, 0o755)
	os.Mkdir(own, 0o755)
	marker := filepath.Join(base, "ran")
	for _, dir := range []string{shared, own} {
		for _, n := range []string{"xclip", "wl-copy", "gio", "zenity", "xdg-open"} {
			os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\necho \""+n+" $*\" >> "+marker+"\ncat >> "+marker+"\n"), 0o755)
		}
	}
	os.Chmod(shared, 0o777)
	t.Setenv("PATH", shared+":"+own+":/usr/bin:/bin")
	d := linuxDesktop{}
	for what, err := range map[string]error{
		"Copy":    d.Copy(ctx, "ulimit -c 0"),
		"Reveal":  d.Reveal(ctx, "/r/x.ips"),
		"Confirm": func() error { _, err := d.Confirm(ctx, "q", "y"); return err }(),
	} {
		if !errors.Is(err, trust.ErrUntrusted) {
			t.Errorf("%s with a planted helper: err = %v", what, err)
		}
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Fatalf("a planted helper ran: %q", b)
	}

	os.Chmod(shared, 0o755)
	t.Setenv("PATH", own+":/usr/bin:/bin")
	if err := d.Copy(ctx, "ulimit -c 0"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(marker); string(b) != "xclip -selection clipboard\nulimit -c 0" {
		t.Errorf("xclip got %q", b)
	}
}
