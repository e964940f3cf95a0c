package managed

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/redact"
	"howett.net/plist"
)

// TestStandInCannotReplaceProfile: the admin's profile (a stand-in for
// /Library/Managed Preferences given as a parameter: the test never reads
// the real folder) enforces ulimit-core, forbids fork tracing, sets the
// export and Redact=all. The user sets FORKWATCH_MANAGED_PREFS to a folder
// of their own that enforces nothing, allows tracing, sends elsewhere and
// redacts nothing. The admin's values apply and Settings says the stand-in
// was ignored. The control: with no Forkwatch profile in the real folder
// (another domain's plist there), the stand-in is used and Settings says
// so.
func TestStandInCannotReplaceProfile(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	real := filepath.Join(base, "Library", "Managed Preferences")
	standIn := filepath.Join(base, "mine")
	writePlist(t, filepath.Join(standIn, Domain+".plist"), map[string]any{
		KeyEnforceToggles: map[string]any{}, KeyAllowForkTracing: true,
		KeyExportEndpoint: "https://personal.example.com", KeyRedact: "none",
	}, plist.XMLFormat)
	writePlist(t, filepath.Join(real, "com.example.other.plist"), map[string]any{"X": true}, plist.XMLFormat)

	for _, perUser := range []bool{false, true} {
		t.Run(map[bool]string{false: "device-wide", true: "per-user"}[perUser], func(t *testing.T) {
			admin := filepath.Join(real, Domain+".plist")
			if perUser {
				admin = filepath.Join(real, "ana", Domain+".plist")
			}
			writePlist(t, admin, map[string]any{
				KeyEnforceToggles: map[string]any{"ulimit-core": true}, KeyAllowForkTracing: false,
				KeyExportEndpoint: "https://otel.corp.example.com", KeyRedact: "all",
			}, plist.XMLFormat)
			defer os.Remove(admin)
			s, err := Load(NewPaths(home, "ana", real, standIn))
			if err != nil {
				t.Fatal(err)
			}
			if on, ok := s.Enforced("ulimit-core"); !ok || !on || s.ForkTracingAllowed() ||
				s.ExportEndpoint != "https://otel.corp.example.com" || s.Redact != (redact.Redaction{Home: true, Args: true, Project: true, Secrets: true}) {
				t.Errorf("the stand-in replaced the profile: %+v", s)
			}
			if s.StandIn != "" || s.StandInIgnored != standIn {
				t.Errorf("StandIn %q, StandInIgnored %q", s.StandIn, s.StandInIgnored)
			}
			if !slices.Equal(s.EnforcedToggles(), []string{"ulimit-core"}) {
				t.Errorf("EnforcedToggles = %v", s.EnforcedToggles())
			}
		})
	}

	// Control: no Forkwatch profile in the real folder.
	s, err := Load(NewPaths(home, "ana", real, standIn))
	if err != nil {
		t.Fatal(err)
	}
	if s.StandIn != standIn || s.ExportEndpoint != "https://personal.example.com" || !s.ForkTracingAllowed() || s.Redact != (redact.Redaction{}) {
		t.Errorf("the stand-in was not used: %+v", s)
	}
}

// TestLinuxReadsNoMacFolder: on Linux there is no real managed folder:
// without the stand-in only the user's own file is read, and no path
// under /Library is ever named.
func TestLinuxReadsNoMacFolder(t *testing.T) {
	if RealDirFor("linux") != "" || RealDirFor("darwin") != DefaultDir {
		t.Fatalf("RealDirFor: %q %q", RealDirFor("linux"), RealDirFor("darwin"))
	}
	p := NewPaths(t.TempDir(), "ana", RealDirFor("linux"), "")
	if p.Device() != "" || p.PerUser() != "" {
		t.Errorf("managed files on Linux: %q %q", p.Device(), p.PerUser())
	}
	for _, l := range p.layers() {
		if strings.HasPrefix(l.path, "/Library") || l.managed {
			t.Errorf("layer %+v", l)
		}
	}
	s, err := Load(p)
	if err != nil || s.StandIn != "" {
		t.Errorf("%+v %v", s, err)
	}
}

// TestEndpointUserinfoRefused: a profile's endpoint with a user and
// password is refused with one line that repeats neither; the rest of the
// profile applies.
func TestEndpointUserinfoRefused(t *testing.T) {
	p := testPaths(t)
	writePlist(t, p.Device(), map[string]any{KeyExportEndpoint: "https://svc:hunter2@otel.corp.example.com", KeyRedact: "all"}, plist.XMLFormat)
	s, err := Load(p)
	if !errors.Is(err, ErrEndpointUserinfo) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "svc:") || strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("err = %v", err)
	}
	if s.ExportEndpoint != "" || !s.Redact.Project {
		t.Errorf("%+v", s)
	}
	if err := CheckEndpoint("ftp://u:p@x"); err == nil || strings.Contains(err.Error(), "u:p") {
		t.Errorf("CheckEndpoint: %v", err)
	}
	if err := CheckEndpoint("https://otel.corp.example.com:4318/"); err != nil {
		t.Errorf("control: %v", err)
	}
}
