package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// shellCoreLimit runs a login shell (zsh also interactive: it reads
// ~/.zshrc only then) with HOME at home, from a parent that raised the
// core limit first: "0" only if Forkwatch's block ran.
func shellCoreLimit(t *testing.T, shell, home string) string {
	t.Helper()
	path, err := exec.LookPath(shell)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed in CI: %v", shell, err)
		}
		t.Skipf("no %s here", shell)
	}
	inner := path + " -l -c 'ulimit -c'"
	if shell == "zsh" {
		inner = path + " -l -i -c 'ulimit -c'"
	}
	cmd := exec.Command("bash", "-c", "ulimit -c unlimited || exit 97; exec "+inner)
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "TERM=dumb", "SHELL=" + path}
	cmd.Dir = home
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 97 {
		t.Skip("cannot raise the core limit here")
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", inner, err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func writeProfile(t *testing.T, dir string, keys map[string]any) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	data, err := plist.Marshal(keys, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, managed.Domain+".plist")
	if err := os.WriteFile(p+".tmp", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
}

// TestManagedProfile: a profile in a stand-in /Library/Managed Preferences
// enforcing two toggles turns them on at start (real zsh and bash start with
// core limit 0; the fake launchctl holds the variable), `set` refuses them,
// `status --json` says managed; a profile change is applied while Forkwatch
// runs; with the profile removed the user is in control again.
func TestManagedProfile(t *testing.T) {
	t.Parallel()
	env := append(fakeCommands(t, testEnv(t)), "FORKWATCH_PLATFORM=darwin") // the macOS toggles, against fakes
	home := envValue(env, "HOME")
	mp := filepath.Join(home, "Managed Preferences")
	env = append(env, managed.EnvDir+"="+mp, "SHELL=/bin/zsh")
	os.WriteFile(filepath.Join(home, ".zshrc"), []byte("export EDITOR=vi\n"), 0o644)
	os.WriteFile(filepath.Join(home, ".bash_profile"), []byte("export EDITOR=vi\n"), 0o644)
	writeProfile(t, mp, map[string]any{
		managed.KeyEnforceToggles: map[string]any{settings.UlimitCore: true, settings.ForkSafetyOff: true},
	})

	ms := managedStatus{t: t, env: env}
	status, waitFor := ms.get, ms.waitFor

	d := t.TempDir()
	p := startForkwatch(t, env, "watch", "--json", "--reports-dir", filepath.Join(d, "reports"), "--cores-dir", "", "--state", filepath.Join(d, "state.json"))
	m := waitFor("enforced at start", func(m map[string]map[string]any) bool {
		return m[settings.UlimitCore]["on"] == true && m[settings.ForkSafetyOff]["on"] == true
	})
	checkEnforcedAtStart(t, m, env, home)

	// set refuses, and changes nothing.
	out, code := runBin(t, env, "set", settings.UlimitCore, "off")
	if code != 1 || !strings.Contains(out, "managed by your organization") {
		t.Errorf("set on a managed toggle: exit %d: %s", code, out)
	}
	if got := shellCoreLimit(t, "zsh", home); got != "0" {
		t.Errorf("after the refused set: core limit %q", got)
	}
	out, _ = runBin(t, env, "status")
	if !strings.Contains(out, policy.ManagedReason) {
		t.Errorf("status text does not say managed:\n%s", out)
	}

	// The profile changes while Forkwatch runs: login-item is enforced too.
	writeProfile(t, mp, map[string]any{
		managed.KeyEnforceToggles: map[string]any{settings.UlimitCore: true, settings.ForkSafetyOff: true, settings.LoginItem: true},
	})
	waitFor("profile change applied", func(m map[string]map[string]any) bool {
		return m[settings.LoginItem]["on"] == true && m[settings.LoginItem]["managed"] == true
	})

	// Profile removed: the user decides again.
	os.RemoveAll(mp)
	waitFor("profile removed", func(m map[string]map[string]any) bool {
		return m[settings.UlimitCore]["managed"] == false && m[settings.ForkSafetyOff]["managed"] == false
	})
	if out, code := runBin(t, env, "set", settings.UlimitCore, "off"); code != 0 {
		t.Fatalf("set after the profile went: exit %d: %s", code, out)
	}
	if got := shellCoreLimit(t, "zsh", home); got == "0" {
		t.Errorf("core limit still 0 after the user turned it off")
	}
	// Forkwatch does not turn it back on without a profile.
	time.Sleep(time.Second)
	if m := status(); m[settings.UlimitCore]["on"] != false {
		t.Errorf("turned back on without a profile: %v", m[settings.UlimitCore])
	}
	if code := p.stop(); code != 0 {
		t.Errorf("watch exit %d: %s", code, p.stderr())
	}
}

// managedStatus reads `status --json` from the binary, as the toggles'
// state read back from the (fake) system.
type managedStatus struct {
	t   *testing.T
	env []string
}

func (s managedStatus) get() map[string]map[string]any {
	s.t.Helper()
	out, code := runBinStdout(s.t, s.env, "status", "--json")
	var m map[string]map[string]any
	if err := unmarshalStatus([]byte(out), &m); err != nil || code != 0 {
		s.t.Fatalf("status --json (exit %d): %v\n%s", code, err, out)
	}
	return m
}

// waitFor reads the status until ok says it shows what, for up to 15 s.
func (s managedStatus) waitFor(what string, ok func(map[string]map[string]any) bool) map[string]map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := s.get()
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: status never showed it: %v", what, m)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkEnforcedAtStart: the enforced toggles are on and say managed, the
// others neither; both shells start with core limit 0 and launchd has the
// variable.
func checkEnforcedAtStart(t *testing.T, m map[string]map[string]any, env []string, home string) {
	t.Helper()
	for _, name := range []string{settings.UlimitCore, settings.ForkSafetyOff} {
		if m[name]["managed"] != true || m[name]["enforced"] != true {
			t.Errorf("%s: %v", name, m[name])
		}
	}
	for _, name := range []string{settings.CoredumpOff, settings.LoginItem} {
		if m[name]["managed"] != false || m[name]["on"] != false {
			t.Errorf("%s: %v", name, m[name])
		}
	}
	for _, sh := range []string{"zsh", "bash"} {
		if got := shellCoreLimit(t, sh, home); got != "0" {
			t.Errorf("%s starts with core limit %q, want 0", sh, got)
		}
	}
	if v, err := os.ReadFile(filepath.Join(envValue(env, "FAKE_STATE"), "env.OBJC_DISABLE_INITIALIZE_FORK_SAFETY")); err != nil || strings.TrimSpace(string(v)) != "YES" {
		t.Errorf("launchctl setenv not done: %q %v", v, err)
	}
}
