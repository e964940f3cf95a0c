package desktop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
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
	d := macDesktop{trash: func(string) (string, error) { return "", nil }}
	if ok, err := d.Confirm(ctx, `Move "2" files?`, "Move to Trash"); !ok || err != nil {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	if err := d.OpenReport(ctx, "/r/a b.ips"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(osa)
	args := strings.Split(strings.TrimSpace(string(b)), "\n")
	joined := strings.Join(args, "\n")
	if !strings.Contains(joined, "\nMove \"2\" files?\n") {
		t.Errorf("data not passed as whole arguments:\n%s", joined)
	}
	for _, a := range args {
		if strings.Contains(a, "do shell script") {
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

// TestMacTrashSendsNoAppleEvents: the macOS desktop moves files to the
// Trash through Foundation (trashItemAtURL, fake here) and runs no
// osascript for it, and no osascript it runs anywhere tells another
// application anything. Telling Finder to delete is an Apple Event to
// another app: under the hardened runtime it needs the
// com.apple.security.automation.apple-events entitlement, which the bundle
// does not have, and fails with -1743 without it (Apple, Apple Events
// Entitlement; ActivityWatch/activitywatch#1411). Fails against the
// osascript `tell application "Finder" to delete` it replaced.
func TestMacTrashSendsNoAppleEvents(t *testing.T) {
	bin := t.TempDir()
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	osa := recorder(t, bin, "osascript")
	recorder(t, bin, "open")
	recorder(t, bin, "pbcopy")
	var trashed []string
	d := macDesktop{trash: func(p string) (string, error) {
		trashed = append(trashed, p)
		if strings.HasSuffix(p, "busy") {
			return trashOutcome(p, false, "", "“busy” couldn’t be moved to the trash because it’s in use.")
		}
		return trashOutcome(p, true, "/Users/ana/.Trash/"+filepath.Base(p), "")
	}}
	ctx := context.Background()
	evil := `/cores/core.1" & do shell script "touch /tmp/pwned`
	err := d.Trash(ctx, []string{"/cores/core.1", evil, "/cores/busy", "/cores/core.3"})
	if err == nil || !strings.Contains(err.Error(), "move /cores/busy to the Trash: “busy” couldn’t be moved") || strings.Contains(err.Error(), "core.3") {
		t.Errorf("trash error: %v", err)
	}
	if strings.Join(trashed, "|") != "/cores/core.1|"+evil+"|/cores/busy|/cores/core.3" {
		t.Errorf("paths handed to Foundation: %q (each whole, all tried after a failure)", trashed)
	}
	d.Confirm(ctx, "Move 2 core files to the Trash?", "Move to Trash")
	d.OpenReport(ctx, "/r/a.ips")
	d.OpenFolder(ctx, "/r")
	d.Reveal(ctx, "/r/a.ips")
	d.OpenDocument(ctx, "/r/a.html")
	d.Copy(ctx, "fix")
	b, _ := os.ReadFile(osa)
	if calls := strings.Count(string(b), "--end--"); calls != 1 {
		t.Errorf("osascript ran %d times, want once (the dialog):\n%s", calls, b)
	}
	if strings.Contains(strings.ToLower(string(b)), "tell application") {
		t.Errorf("osascript was asked to send an Apple Event to another app:\n%s", b)
	}
}

// TestTrashOutcome: what Foundation gives back becomes a result or an
// error naming the path: NO with an NSError's description, NO without one,
// YES with the name in the Trash (which may differ), YES without it.
func TestTrashOutcome(t *testing.T) {
	for _, c := range []struct {
		ok                bool
		resulting, reason string
		want, wantErr     string
	}{
		{true, "/Users/ana/.Trash/core.42 2", "", "/Users/ana/.Trash/core.42 2", ""},
		{true, "", "", "", ""},
		{false, "", "You don’t have permission to access “cores”.", "", "move /cores/core.42 to the Trash: You don’t have permission to access “cores”."},
		{false, "", "", "", "move /cores/core.42 to the Trash: no reason given by Foundation"},
	} {
		got, err := trashOutcome("/cores/core.42", c.ok, c.resulting, c.reason)
		if got != c.want || (err == nil) != (c.wantErr == "") || (err != nil && err.Error() != c.wantErr) {
			t.Errorf("trashOutcome(%v, %q, %q) = %q, %v; want %q, %q", c.ok, c.resulting, c.reason, got, err, c.want, c.wantErr)
		}
	}
	if err := trashAll(context.Background(), platformTrash(), []string{"/x"}); runtime.GOOS != "darwin" && !errors.Is(err, ErrNoTool) {
		t.Errorf("Foundation's trash off macOS: %v", err)
	}
}
