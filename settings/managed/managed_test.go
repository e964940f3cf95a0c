package managed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/internal/redact"
	"howett.net/plist"
)

func writePlist(t *testing.T, path string, v any, format int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := plist.Marshal(v, format)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testPaths(t *testing.T) Paths {
	root := t.TempDir()
	return Paths{ManagedDir: filepath.Join(root, "Managed Preferences"), User: "ana", UserPrefs: filepath.Join(root, "home", "Library", "Preferences", Domain+".plist")}
}

func TestLoadPrecedence(t *testing.T) {
	p := testPaths(t)
	// The user's own file: an endpoint and Redact.
	writePlist(t, p.UserPrefs, map[string]any{
		KeyExportEndpoint: "http://127.0.0.1:4318",
		KeyRedact:         "none",
		KeyNotifications:  false,
	}, plist.XMLFormat)
	// Device-wide profile, binary as cfprefsd writes it.
	writePlist(t, p.Device(), map[string]any{
		KeyEnforceToggles: map[string]any{"ulimit-core": true, "coredump-off": true},
		KeyExportEndpoint: "https://otel.example.com:4318",
		KeyExportHeaders:  map[string]any{"Authorization": "Bearer device", "X-Team": "data"},
		KeyRedact:         "home,args",
		"PayloadUUID":     "ignored",
	}, plist.BinaryFormat)
	// Per-user profile beats the device's.
	writePlist(t, p.PerUser(), map[string]any{
		KeyEnforceToggles: map[string]any{"coredump-off": false},
		KeyExportHeaders:  map[string]any{"Authorization": "Bearer ana"},
	}, plist.XMLFormat)

	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if on, ok := s.Enforced("ulimit-core"); !ok || !on {
		t.Errorf("ulimit-core = %v %v", on, ok)
	}
	if on, ok := s.Enforced("coredump-off"); !ok || on {
		t.Errorf("coredump-off = %v %v, want enforced off (per user beats device)", on, ok)
	}
	if _, ok := s.Enforced("login-item"); ok {
		t.Error("login-item enforced")
	}
	if s.ExportEndpoint != "https://otel.example.com:4318" || !s.Managed[KeyExportEndpoint] {
		t.Errorf("endpoint %q managed %v", s.ExportEndpoint, s.Managed[KeyExportEndpoint])
	}
	if s.ExportHeaders["Authorization"] != "Bearer ana" || s.ExportHeaders["X-Team"] != "data" {
		t.Errorf("headers %v", s.ExportHeaders)
	}
	if s.Redact != (redact.Redaction{Home: true, Args: true, Secrets: true}) {
		t.Errorf("redact %+v", s.Redact)
	}
	if s.NotificationsOn() || s.Managed[KeyNotifications] {
		t.Errorf("notifications: the user's own false, unmanaged; got on=%v managed=%v", s.NotificationsOn(), s.Managed[KeyNotifications])
	}
	if !s.ForkTracingAllowed() {
		t.Error("fork tracing: default is allowed")
	}
}

func TestLoadNothing(t *testing.T) {
	s, err := Load(testPaths(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.EnforceToggles) != 0 || s.ExportEndpoint != "" || s.Redact != (redact.Redaction{Home: true, Args: true, Secrets: true}) || !s.NotificationsOn() {
		t.Errorf("defaults: %+v", s)
	}
}

// TestLoadMalformed: bad files and bad values give errors naming the file,
// the key and the types; nothing panics; the good keys still apply.
func TestLoadMalformed(t *testing.T) {
	tests := []struct {
		name    string
		device  any // written as a plist; string: raw bytes
		wantErr []string
		check   func(t *testing.T, s Settings)
	}{
		{"not a plist", "garbage \x00\x01 bytes", []string{"not a property list"}, nil},
		{"array at top", []any{"a"}, []string{"top level is an array"}, nil},
		{"wrong types", map[string]any{
			KeyEnforceToggles: "ulimit-core",
			KeyNotifications:  "no",
			KeyExportEndpoint: 4318,
			KeyExportHeaders:  map[string]any{"A": 1, "B": "ok"},
			KeyRedact:         "home",
		}, []string{
			"EnforceToggles is a string, want a dictionary",
			"Notifications is a string, want a boolean",
			"ExportEndpoint is an integer, want a string",
			"ExportHeaders.A is an integer, want a string",
		}, func(t *testing.T, s Settings) {
			if s.ExportHeaders["B"] != "ok" || s.Managed[KeyRedact] != true {
				t.Errorf("good keys lost: %+v", s)
			}
		}},
		{"bad toggle entries", map[string]any{KeyEnforceToggles: map[string]any{"ulimit": true, "coredump-off": "yes", "login-item": false}},
			[]string{`unknown toggle "ulimit"`, "EnforceToggles.coredump-off is a string, want a boolean"},
			func(t *testing.T, s Settings) {
				if on, ok := s.Enforced("login-item"); !ok || on {
					t.Errorf("login-item: %v %v", on, ok)
				}
			}},
		{"bad endpoint and redact", map[string]any{KeyExportEndpoint: "ftp://x", KeyRedact: "everything"},
			[]string{"want an http:// or https:// URL", `unknown word "everything"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPaths(t)
			if raw, ok := tt.device.(string); ok {
				os.MkdirAll(filepath.Dir(p.Device()), 0o755)
				os.WriteFile(p.Device(), []byte(raw), 0o644)
			} else {
				writePlist(t, p.Device(), tt.device, plist.XMLFormat)
			}
			s, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), p.Device()) {
				t.Errorf("error does not name the file: %v", err)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

// TestUserCannotEnforce: EnforceToggles in the user's own file locks
// nothing.
func TestUserCannotEnforce(t *testing.T) {
	p := testPaths(t)
	writePlist(t, p.UserPrefs, map[string]any{KeyEnforceToggles: map[string]any{"ulimit-core": true}}, plist.XMLFormat)
	s, err := Load(p)
	if _, ok := s.Enforced("ulimit-core"); ok || err == nil || !strings.Contains(err.Error(), "only a configuration profile") {
		t.Errorf("enforced from the user's file: %v", err)
	}
}

// TestWatch: a profile appearing in a folder that did not exist, changing,
// and going away each call onChange; an unchanged rewrite does not.
func TestWatch(t *testing.T) {
	p := testPaths(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, p, nil, func() { changes <- struct{}{} }) }()
	time.Sleep(200 * time.Millisecond)
	expect := func(what string, want bool) {
		t.Helper()
		select {
		case <-changes:
			if !want {
				t.Errorf("%s: unexpected change", what)
			}
		case <-time.After(2 * time.Second):
			if want {
				t.Fatalf("%s: no change noticed", what)
			}
		}
	}
	profile := map[string]any{KeyEnforceToggles: map[string]any{"ulimit-core": true}}
	// The folder and the per-user folder appear, then the file.
	writePlist(t, p.PerUser(), profile, plist.XMLFormat)
	expect("per-user profile installed", true)
	writePlist(t, p.PerUser(), profile, plist.XMLFormat)
	expect("rewritten unchanged", false)
	writePlist(t, p.Device(), map[string]any{KeyNotifications: false}, plist.BinaryFormat)
	expect("device profile", true)
	os.RemoveAll(p.ManagedDir)
	expect("profiles removed", true)
	writePlist(t, p.Device(), profile, plist.XMLFormat)
	expect("folder back", true)
	writePlist(t, p.UserPrefs, map[string]any{KeyExportEndpoint: "http://127.0.0.1:4318"}, plist.XMLFormat)
	expect("defaults write", true)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
