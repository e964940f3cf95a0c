package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNativeDenialIsAState: "Don't Allow" is read again at every start.
// The child check reports a denial (exit 4 from `notify --test --quiet`);
// no verdict is recorded for the version, so once the user allows
// notifications in System Settings the next start goes native. A denial
// an earlier version recorded as a failed check is checked again too.
func TestNativeDenialIsAState(t *testing.T) {
	support := t.TempDir()
	exe := fakeBundle(t, goodPlist, "MacOS")
	fb := &fakeBackend{status: authDenied}
	proves := 0
	denied := true
	cfg := NativeConfig{
		Exe: exe, Version: "v3.0.0", SupportDir: support, Fallback: &fakeActionNotifier{path: "beeep"},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Backend: func() (nativeBackend, error) { return fb, nil },
		Prove: func(context.Context) error {
			proves++
			if denied {
				return ErrPermissionDenied
			}
			return nil
		},
	}
	n := newNativeNotifier(cfg)
	n.Start(context.Background())
	if !strings.Contains(n.Path(), "off in System Settings") || !strings.Contains(n.Path(), "read again at each start") {
		t.Errorf("denied: path %q", n.Path())
	}
	if _, ok := (verdictFile{filepath.Join(support, "notifications.json")}).get("v3.0.0"); ok {
		t.Error("a denial was recorded as this version's verdict")
	}
	// The user allows Forkwatch in System Settings; the app starts again.
	denied, fb.status = false, authAuthorized
	n = newNativeNotifier(cfg)
	n.Start(context.Background())
	if n.Path() != "native" || proves != 2 {
		t.Errorf("after allowing: path %q after %d checks, want native after 2", n.Path(), proves)
	}

	// A verdict an older build wrote for a denial does not stick.
	old := filepath.Join(t.TempDir(), "support")
	os.MkdirAll(old, 0o700)
	os.WriteFile(filepath.Join(old, "notifications.json"), []byte(`{"v3.0.0":{"ok":false,"detail":"`+deniedText+`"}}`), 0o600)
	cfg.SupportDir = old
	n = newNativeNotifier(cfg)
	n.Start(context.Background())
	if n.Path() != "native" || proves != 3 {
		t.Errorf("old denial verdict: path %q after %d checks", n.Path(), proves)
	}
}

// TestNativeTestDenied: the child itself returns ErrPermissionDenied for a
// denied permission and records no verdict.
func TestNativeTestDenied(t *testing.T) {
	support := t.TempDir()
	cfg := NativeConfig{Exe: fakeBundle(t, goodPlist, "MacOS"), Version: "v3.1.0", SupportDir: support,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Backend: func() (nativeBackend, error) { return &fakeBackend{status: authDenied}, nil }}
	err := NativeTest(context.Background(), cfg, Notification{Title: "t"})
	if !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("NativeTest = %v, want ErrPermissionDenied", err)
	}
	if _, ok := (verdictFile{filepath.Join(support, "notifications.json")}).get("v3.1.0"); ok {
		t.Error("verdict recorded for a denial")
	}
}

// TestProveInChildDenied: exit code 4 from the child is a denial.
func TestProveInChildDenied(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "fake-forkwatch")
	os.WriteFile(exe, []byte("#!/bin/sh\necho denied >&2\nexit 4\n"), 0o755)
	if err := proveInChild(context.Background(), exe, 10e9); !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("proveInChild = %v, want ErrPermissionDenied", err)
	}
}

func TestLoadFrameworks(t *testing.T) {
	var loaded []string
	open := func(p string) error {
		loaded = append(loaded, p)
		if strings.Contains(p, "Missing") {
			return errors.New("image not found")
		}
		return nil
	}
	if err := loadFrameworks(open, "/F/Foundation", "/F/UserNotifications"); err != nil || len(loaded) != 2 {
		t.Errorf("loadFrameworks = %v, loaded %q", err, loaded)
	}
	loaded = nil
	err := loadFrameworks(open, "/F/Foundation", "/F/Missing", "/F/Never")
	if err == nil || !strings.Contains(err.Error(), "load /F/Missing: image not found") || len(loaded) != 2 {
		t.Errorf("loadFrameworks = %v, loaded %q", err, loaded)
	}
}
