package desktop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder writes a fake command that logs each argument on its own line
// (NUL-separated calls) and exits with $FAKE_EXIT.
func recorder(t *testing.T, bin, name string) string {
	log := filepath.Join(bin, name+".log")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> " + log + "; done\nprintf '%s\\n' '--end--' >> " + log + "\n" +
		"[ -n \"$FAKE_STDERR\" ] && echo \"$FAKE_STDERR\" >&2\nexit ${FAKE_EXIT:-0}\n"
	os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755)
	return log
}

// TestMacDesktopArgv: paths and dialog text reach osascript and open as
// separate arguments, never inside script text; a cancelled dialog is "no".
func TestMacDesktopArgv(t *testing.T) {
	bin := t.TempDir()
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	osa := recorder(t, bin, "osascript")
	open := recorder(t, bin, "open")
	ctx := context.Background()
	evil := `/cores/core.1" & do shell script "touch /tmp/pwned`
	d := macDesktop{}
	if err := d.Trash(ctx, []string{"/cores/core.1", evil}); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Confirm(ctx, `Move "2" files?`, "Move to Trash"); !ok || err != nil {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	if err := d.OpenReport(ctx, "/r/a b.ips"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(osa)
	args := strings.Split(strings.TrimSpace(string(b)), "\n")
	joined := strings.Join(args, "\n")
	if !strings.Contains(joined, "\n"+evil+"\n") || !strings.Contains(joined, "\nMove \"2\" files?\n") {
		t.Errorf("data not passed as whole arguments:\n%s", joined)
	}
	for _, a := range args {
		if strings.Contains(a, "do shell script") && a != evil {
			t.Errorf("data inside script text: %q", a)
		}
	}
	if o, _ := os.ReadFile(open); string(o) != "-a\nConsole\n/r/a b.ips\n--end--\n" {
		t.Errorf("open args: %q", o)
	}
	t.Setenv("FAKE_EXIT", "1")
	t.Setenv("FAKE_STDERR", "execution error: User canceled. (-128)")
	if ok, err := d.Confirm(ctx, "q", "y"); ok || err != nil {
		t.Errorf("cancelled dialog: %v %v", ok, err)
	}
}
