package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// attacker is the uid that plants files (nobody on Debian and macOS).
const attacker = 65534

// plantShared makes a sticky folder anyone can write, like /tmp, holding
// files the attacker uid planted. Needs root to give them away.
func plantShared(t *testing.T, files map[string]string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to plant files as another uid")
	}
	dir := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(dir, 0o777)
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chown(p, attacker, attacker)
	}
	return dir
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestDoctorPlantedModule: the user runs `forkwatch doctor` from a shared
// folder where uid 65534 left multiprocessing.py, json.py and resource.py
// (what the inventory's question and the probe import) and a fwevil.rb
// that RUBYOPT/RUBYLIB would load. Run as doctor ran them before (the same
// script with -E -s from the current folder), the planted module runs: the
// attack. Through doctor's inventory, Ruby inventory and probe nothing
// planted runs, and each interpreter still answers (the control).
func TestDoctorPlantedModule(t *testing.T) {
	m := newFakeMac(t, "ps")
	python := realPython(t)
	marks := t.TempDir()
	plant := func(name string) string {
		return "open('" + filepath.Join(marks, name) + "', 'w').write('ran')\n"
	}
	shared := plantShared(t, map[string]string{
		"multiprocessing.py": plant("multiprocessing"),
		"json.py":            plant("json"),
		"resource.py":        plant("resource"),
		"fwevil.rb":          "File.write('" + filepath.Join(marks, "ruby") + "', 'ran')\n",
	})
	t.Chdir(shared)
	planted := func() []string {
		var ran []string
		for _, n := range []string{"multiprocessing", "json", "resource", "ruby"} {
			if fileExists(filepath.Join(marks, n)) {
				ran = append(ran, n)
			}
		}
		return ran
	}
	// The attack, as doctor ran the question before.
	if out, err := exec.Command(python, "-E", "-s", "-c", askScript).CombinedOutput(); err != nil || len(planted()) == 0 {
		t.Fatalf("the planted module did not run without the fix (%v, %s): the test cannot see the attack", err, out)
	}
	os.RemoveAll(marks)
	os.Mkdir(marks, 0o755)

	bin := filepath.Join(m.home, "bin")
	os.MkdirAll(bin, 0o755)
	os.Symlink(python, filepath.Join(bin, "python3"))
	o := m.options("linux")
	o.PATH = bin
	if ruby, err := exec.LookPath("ruby"); err == nil {
		os.Symlink(ruby, filepath.Join(bin, "ruby"))
		t.Setenv("RUBYLIB", shared)
		t.Setenv("RUBYOPT", "-rfwevil")
	}
	inv := Inventory(context.Background(), o)
	if in := find(Report{Interpreters: inv}, filepath.Join(bin, "python3")); in == nil || in.Version == "" || in.StartMethod == "" {
		t.Fatalf("control: the real python3 did not answer: %+v", inv)
	}
	if fileExists(filepath.Join(bin, "ruby")) {
		rubies := RubyInventory(context.Background(), o)
		if in := findRuby(Report{Rubies: rubies}, filepath.Join(bin, "ruby")); in == nil || in.Version == "" {
			t.Fatalf("control: the real ruby did not answer: %+v", rubies)
		}
	}
	res := Probe(context.Background(), probeOptions(t, "linux"), python, "")
	if res.Without.Outcome != Survived {
		t.Fatalf("control: the probe did not run: %+v", res)
	}
	if ran := planted(); len(ran) > 0 {
		t.Errorf("planted code ran through doctor: %v", ran)
	}
}

// TestDoctorUntrustedRubyAndPyenv: a ruby in a group-writable PATH folder
// and a pyenv in a world-writable one are not run (each would note that it
// ran); the same files in the user's own folders are (the control).
func TestDoctorUntrustedRubyAndPyenv(t *testing.T) {
	m := newFakeMac(t, "ps")
	shared := filepath.Join(m.dir, "shared")
	own := filepath.Join(m.home, "bin")
	m.fakeRuby(t, filepath.Join(shared, "ruby"), "3.3.0")
	m.fakeRuby(t, filepath.Join(own, "ruby"), "3.2.2")
	os.Chmod(shared, 0o775)
	o := m.options("linux")
	o.PATH = shared + ":" + own
	rubies := RubyInventory(context.Background(), o)
	bad := findRuby(Report{Rubies: rubies}, filepath.Join(shared, "ruby"))
	if bad == nil || !strings.Contains(bad.Skipped, "writable by group ("+shared+")") || bad.Version != "" {
		t.Errorf("group-writable ruby: %+v", bad)
	}
	if good := findRuby(Report{Rubies: rubies}, filepath.Join(own, "ruby")); good == nil || good.Version != "3.2.2" {
		t.Errorf("control: own ruby: %+v", good)
	}
	if log := m.log(); strings.Contains(log, shared) || !strings.Contains(log, own) {
		t.Errorf("runs: %q", log)
	}

	pyenv := "#!/bin/sh\necho \"ran $0\" >> \"$FAKE_STATE/log\"\necho " + filepath.Join(m.home, "custom-pyenv") + "\n"
	for _, c := range []struct {
		mode os.FileMode
		want string
	}{
		{0o777, filepath.Join(m.home, ".pyenv")}, // not run: the default
		{0o755, filepath.Join(m.home, "custom-pyenv")},
	} {
		dir := filepath.Join(t.TempDir(), "pyenvbin")
		m.write(t, filepath.Join(dir, "pyenv"), pyenv, 0o755)
		os.Chmod(dir, c.mode)
		t.Setenv("PATH", dir+":/usr/bin:/bin")
		os.Remove(filepath.Join(m.state, "log"))
		got := defaultManagers(context.Background(), m.home, "linux", func(string) string { return "" })
		if got.PyenvRoot != c.want {
			t.Errorf("pyenv in a %v folder: PyenvRoot %q, want %q", c.mode, got.PyenvRoot, c.want)
		}
		if ran := strings.Contains(m.log(), "ran "+dir); ran != (c.mode == 0o755) {
			t.Errorf("pyenv in a %v folder: ran = %v", c.mode, ran)
		}
	}
}
