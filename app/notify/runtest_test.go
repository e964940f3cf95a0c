package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestNotifyCommand: `notify --test` says which path delivered;
// `--quiet` (the app's child check) prints nothing and fails unless the
// native path delivered.
func TestNotifyCommand(t *testing.T) {
	bundled := fakeBundle(t, goodPlist, "MacOS")
	noDesktop := func(ActionNotifier) (ActionNotifier, error) { return nil, errors.New("no session bus") }
	withDesktop := func(ActionNotifier) (ActionNotifier, error) { return &fakeActionNotifier{path: "dbus"}, nil }
	for _, tc := range []struct {
		name       string
		args       []string
		exe        string
		backend    bool
		status     authStatus
		desktop    func(ActionNotifier) (ActionNotifier, error)
		wantCode   int
		wantOut    string
		wantPosted bool // natively
	}{
		{"native", []string{"--test"}, bundled, true, authAuthorized, noDesktop, 0, "delivered through: native (UNUserNotificationCenter)\n", true},
		{"native quiet", []string{"--test", "--quiet"}, bundled, true, authAuthorized, noDesktop, 0, "", true},
		{"quiet, denied", []string{"--test", "--quiet"}, bundled, true, authDenied, noDesktop, ExitPermissionDenied, "", false}, // a state, not a failure
		{"quiet, not bundled", []string{"--test", "--quiet"}, "/usr/local/bin/forkwatch", true, authAuthorized, noDesktop, 1, "", false},
		{"not bundled", []string{"--test"}, "/usr/local/bin/forkwatch", true, authAuthorized, noDesktop, 0, "delivered through: beeep (native: not running from Forkwatch.app)\n", false},
		{"linux desktop", []string{"--test"}, "/usr/bin/forkwatch", false, 0, withDesktop, 0, "delivered through: dbus (native: native notifications are macOS-only)\n", false},
		{"no --test", nil, bundled, true, authAuthorized, noDesktop, 2, "", false},
		{"stray argument", []string{"--test", "x"}, bundled, true, authAuthorized, noDesktop, 2, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb := &fakeBackend{status: tc.status}
			fallback := &fakeActionNotifier{path: "beeep"}
			cfg := NativeConfig{Exe: tc.exe, Version: "v1", SupportDir: t.TempDir(), Fallback: fallback,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if tc.backend {
				cfg.Backend = func() (nativeBackend, error) { return fb, nil }
			}
			var out, errb bytes.Buffer
			code := RunTest(context.Background(), tc.args, &out, &errb, cfg, tc.desktop)
			if code != tc.wantCode || out.String() != tc.wantOut {
				t.Errorf("exit %d, stdout %q (stderr %q); want %d, %q", code, out.String(), errb.String(), tc.wantCode, tc.wantOut)
			}
			if got := len(fb.posted) == 1; got != tc.wantPosted {
				t.Errorf("posted natively: %v", got)
			}
			if tc.wantOut != "" && strings.Contains(tc.wantOut, "beeep") && !strings.Contains(fallback.All(), "Forkwatch notifications work") {
				t.Errorf("fallback did not get the test notification: %q", fallback.All())
			}
		})
	}
	// An unanswered prompt: exit 3 with --quiet, and no verdict.
	pending := t.TempDir()
	cfgP := NativeConfig{Exe: bundled, Version: "v8", SupportDir: pending, Fallback: &fakeActionNotifier{path: "beeep"}, Wait: 10 * time.Millisecond,
		Backend: func() (nativeBackend, error) { return &fakeBackend{status: authNotDetermined, block: true}, nil }}
	if code := RunTest(context.Background(), []string{"--test", "--quiet"}, io.Discard, io.Discard, cfgP, noDesktop); code != ExitPermissionPending {
		t.Errorf("unanswered prompt: exit %d, want %d", code, ExitPermissionPending)
	}
	if _, ok := (verdictFile{pending + "/notifications.json"}).get("v8"); ok {
		t.Error("verdict recorded for an unanswered prompt")
	}

	// A successful native test records the verdict for this version, so a
	// user can re-check after a failure.
	support := t.TempDir()
	cfg := NativeConfig{Exe: bundled, Version: "v9", SupportDir: support, Fallback: &fakeActionNotifier{path: "beeep"},
		Backend: func() (nativeBackend, error) { return &fakeBackend{status: authAuthorized}, nil }}
	RunTest(context.Background(), []string{"--test"}, io.Discard, io.Discard, cfg, noDesktop)
	if v, ok := (verdictFile{support + "/notifications.json"}).get("v9"); !ok || !v.OK {
		t.Errorf("verdict after a good test: %+v %v", v, ok)
	}
}
