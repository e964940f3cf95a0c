package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCommands writes fake sysctl/launchctl/osascript into the test PATH
// (the fakes of the settings package tests, settings/testdata/fakes).
func fakeCommands(t *testing.T, env []string) []string {
	t.Helper()
	home := envValue(env, "HOME")
	bin := filepath.Join(home, "fakebin")
	state := filepath.Join(home, ".fakestate")
	root := filepath.Join(home, ".fakeroot")
	os.MkdirAll(state, 0o755)
	os.MkdirAll(filepath.Join(root, "Library", "LaunchDaemons"), 0o755)
	for _, name := range []string{"sysctl", "launchctl", "osascript"} {
		data, err := os.ReadFile(filepath.Join("..", "settings", "testdata", "fakes", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(bin, name), data, 0o755)
	}
	os.WriteFile(filepath.Join(state, "sysctl.kern.coredump"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(state, "sysctl.kern.corefile"), []byte("/cores/core.%P\n"), 0o644)
	return append(env, "FAKE_STATE="+state, "FAKE_BIN="+bin, "FAKE_ROOT="+root,
		"FORKWATCH_LAUNCHDAEMONS_DIR="+filepath.Join(root, "Library", "LaunchDaemons"))
}

func envValue(env []string, k string) string {
	for _, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			return kv[len(k)+1:]
		}
	}
	return ""
}

func runBin(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(forkwatchBin(t), args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// TestSetStatusUninstall: `set` changes the system and reads it back,
// `status --json` tells the truth after each step, and `uninstall` leaves
// the home exactly as it was before the toggles were first set.
func TestSetStatusUninstall(t *testing.T) {
	t.Parallel()
	env := append(fakeCommands(t, testEnv(t)), "FORKWATCH_PLATFORM=darwin")
	home := envValue(env, "HOME")
	os.WriteFile(filepath.Join(home, ".profile"), []byte("export FOO=bar\n"), 0o644)
	before := snapshotDir(t, home, ".fakestate", ".fakeroot", "fakebin")

	status := func() map[string]map[string]any {
		out, code := runBin(t, env, "status", "--json")
		if code != 0 {
			t.Fatalf("status exit %d: %s", code, out)
		}
		var m map[string]map[string]any
		if err := unmarshalStatus([]byte(out), &m); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		return m
	}
	for name := range status() {
		if status()[name]["on"] != false {
			t.Fatalf("%s starts on", name)
		}
	}
	for _, name := range []string{"ulimit-core", "coredump-off", "fork-safety-off", "login-item"} {
		out, code := runBin(t, env, "set", name, "on")
		if code != 0 {
			t.Fatalf("set %s on: exit %d\n%s", name, code, out)
		}
		if !strings.Contains(out, "[x] "+name) {
			t.Errorf("set %s on printed %q", name, out)
		}
		if status()[name]["on"] != true {
			t.Errorf("status after set %s on: %v", name, status()[name])
		}
	}
	out, code := runBin(t, env, "uninstall")
	if code != 0 {
		t.Fatalf("uninstall: %d\n%s", code, out)
	}
	after := snapshotDir(t, home, ".fakestate", ".fakeroot", "fakebin")
	for k, v := range before {
		if after[k] != v {
			t.Errorf("changed by the round trip: %s", k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("left behind: %s", k)
		}
	}
	for name, st := range status() {
		if st["on"] != false {
			t.Errorf("%s still on after uninstall", name)
		}
	}
}

// TestSetErrors: usage errors exit 2; a cancelled password prompt exits 1
// and says nothing changed.
func TestSetErrors(t *testing.T) {
	t.Parallel()
	env := append(fakeCommands(t, testEnv(t)), "FORKWATCH_PLATFORM=darwin")
	if _, code := runBin(t, env, "set", "nope", "on"); code != 2 {
		t.Errorf("unknown name: exit %d", code)
	}
	if _, code := runBin(t, env, "set", "ulimit-core", "maybe"); code != 2 {
		t.Errorf("bad value: exit %d", code)
	}
	out, code := runBin(t, append(env, "FAKE_OSASCRIPT_CANCEL=1"), "set", "coredump-off", "on")
	if code != 1 || !strings.Contains(out, "cancelled") || !strings.Contains(out, "[ ] coredump-off") {
		t.Errorf("cancel: exit %d\n%s", code, out)
	}
}

func snapshotDir(t *testing.T, dir string, skip ...string) map[string]string {
	m := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		for _, s := range skip {
			if rel == s || strings.HasPrefix(rel, s+"/") {
				if fi.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if fi.IsDir() {
			m[rel] = "dir"
			return nil
		}
		b, _ := os.ReadFile(p)
		m[rel] = fi.Mode().String() + string(b)
		return nil
	})
	return m
}

// TestVersionStamp: `forkwatch --version` prints what the build stamped.
func TestVersionStamp(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "fw")
	if out, err := goCommand("build", "-race="+raceFlag(), "-ldflags", "-X main.version=v9.8.7-test", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "forkwatch v9.8.7-test" {
		t.Errorf("--version printed %q (%v)", out, err)
	}
}
