package syscmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust"
	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

func TestMain(m *testing.M) { trusttest.Main(m) }

// TestPlantedCommandNotRun: a fake osascript (it would show a fake password
// dialog) in a PATH folder others can write, or one another uid owns, is
// never run; the same fake in the user's own 0755 folder is (the control).
func TestPlantedCommandNotRun(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "ran")
	fake := "#!/bin/sh\necho ran >> " + mark + "\necho password123\n"
	type setup struct {
		name  string
		mode  os.FileMode
		owner int // -1: ours
		want  string
	}
	cases := []setup{
		{"world-writable PATH folder", 0o777, -1, "writable by others"},
		{"sticky world-writable PATH folder", 0o777 | os.ModeSticky, -1, "writable by others"},
		{"group-writable PATH folder", 0o775, -1, "writable by group"},
		{"another uid's PATH folder", 0o755, 65534, "owned by uid 65534"},
		{"the user's own folder", 0o755, -1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.owner >= 0 && os.Geteuid() != 0 {
				t.Skip("needs root to give a folder away")
			}
			os.Remove(mark)
			bin := filepath.Join(t.TempDir(), "bin")
			os.Mkdir(bin, 0o755)
			if err := os.WriteFile(filepath.Join(bin, "osascript"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			os.Chmod(bin, c.mode)
			if c.owner >= 0 {
				os.Chown(bin, c.owner, c.owner)
				os.Chown(filepath.Join(bin, "osascript"), c.owner, c.owner)
			}
			t.Setenv("PATH", bin+":/usr/bin:/bin")
			out, err := Run(context.Background(), 0, "osascript", "-e", "display dialog")
			_, statErr := os.Stat(mark)
			if c.want == "" {
				if err != nil || strings.TrimSpace(out) != "password123" || statErr != nil {
					t.Fatalf("control: out %q err %v", out, err)
				}
				return
			}
			if !errors.Is(err, trust.ErrUntrusted) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), bin) {
				t.Errorf("err = %v, want a refusal %q naming %s", err, c.want, bin)
			}
			if statErr == nil {
				t.Error("the planted osascript ran")
			}
		})
	}
}

func TestMissingCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Run(context.Background(), 0, "launchctl"); !errors.Is(err, ErrCommandMissing) {
		t.Errorf("err = %v", err)
	}
}
