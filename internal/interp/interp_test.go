package interp

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/internal/trust"
	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

func TestMain(m *testing.M) { trusttest.Main(m) }

// attacker is the uid that plants files (nobody on Debian and macOS).
const attacker = 65534

// sharedFolder makes a folder anyone can write (sticky, like /tmp) holding
// files planted by the attacker uid. Needs root to give them away.
func sharedFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to plant files as another uid")
	}
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, attacker, attacker); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// pythons are the real interpreters to try: Python 3 (gets -I) and, where
// installed, a Python 2.7 (gets -E -s and relies on the private folder).
func pythons(t *testing.T) []Spec {
	var out []Spec
	for _, c := range []struct{ path, version string }{
		{"/usr/bin/python3", ""},
		{"/usr/bin/python3", "3.11"},
		{"/root/.pyenv/versions/2.7.18/bin/python2.7", "2.7.18"},
	} {
		if exists(c.path) {
			out = append(out, Spec{Lang: Python, Path: c.path, Version: c.version})
		}
	}
	if len(out) == 0 {
		t.Skip("no python here")
	}
	return out
}

// TestPlantedModuleDoesNotRun: the user runs Forkwatch from a shared folder
// where another uid left json.py and multiprocessing.py. Run the way
// Forkwatch ran interpreters before (the same flags, no working folder of
// its own), the planted module runs — the attack. Through Command it does
// not, and the interpreter still answers (the control).
func TestPlantedModuleDoesNotRun(t *testing.T) {
	marks := t.TempDir()
	plant := func(name string) string {
		return "open(" + `"` + filepath.Join(marks, name) + `"` + ", 'w').write('ran')\n"
	}
	shared := sharedFolder(t, map[string]string{
		"json.py":            plant("json"),
		"multiprocessing.py": plant("multiprocessing"),
	})
	t.Chdir(shared)
	const script = "import json, multiprocessing, sys; sys.stdout.write('FWOK')"
	for _, s := range pythons(t) {
		t.Run(filepath.Base(s.Path)+"@"+s.Version, func(t *testing.T) {
			os.RemoveAll(filepath.Join(marks, "json"))
			os.RemoveAll(filepath.Join(marks, "multiprocessing"))
			// The attack, as before: -E -s and the caller's folder.
			out, err := exec.Command(s.Path, "-E", "-s", "-c", script).CombinedOutput()
			if err != nil {
				t.Fatalf("unprotected run: %v: %s", err, out)
			}
			if !exists(filepath.Join(marks, "json")) {
				t.Fatalf("the planted json.py did not run without the fix: the test cannot see the attack")
			}
			os.Remove(filepath.Join(marks, "json"))
			os.Remove(filepath.Join(marks, "multiprocessing"))

			parent := t.TempDir()
			s.Args, s.UID, s.TempParent = []string{"-c", script}, os.Getuid(), parent
			stdout, stderr, err := Run(context.Background(), 20*time.Second, s)
			if err != nil || stdout != "FWOK" {
				t.Fatalf("protected run: %q %q %v", stdout, stderr, err)
			}
			for _, m := range []string{"json", "multiprocessing"} {
				if exists(filepath.Join(marks, m)) {
					t.Errorf("planted %s.py ran through interp.Run", m)
				}
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Errorf("private folder left behind: %v", left)
			}
		})
	}
}

// TestRubyEnvDoesNotLoad: RUBYOPT and RUBYLIB pointing at a planted file
// make `ruby -e` load it (the attack); through Command they do not.
func TestRubyEnvDoesNotLoad(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		t.Skip("no ruby")
	}
	ruby, _ = filepath.EvalSymlinks(ruby)
	mark := filepath.Join(t.TempDir(), "ran")
	shared := sharedFolder(t, map[string]string{"fwevil.rb": "File.write(" + `"` + mark + `"` + ", 'ran')\n"})
	t.Chdir(shared)
	env := append(os.Environ(), "RUBYLIB="+shared, "RUBYOPT=-rfwevil")
	cmd := exec.Command(ruby, "-e", `print "FWOK"`)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil || !exists(mark) {
		t.Fatalf("unprotected run did not load the planted file (%v %s): the test cannot see the attack", err, out)
	}
	os.Remove(mark)
	stdout, stderr, err := Run(context.Background(), 20*time.Second, Spec{
		Lang: Ruby, Path: ruby, Args: []string{"-e", `print "FWOK"`}, Env: env, UID: os.Getuid(),
	})
	if err != nil || stdout != "FWOK" {
		t.Fatalf("protected run: %q %q %v", stdout, stderr, err)
	}
	if exists(mark) {
		t.Error("planted fwevil.rb loaded through interp.Run")
	}
}

// TestUntrustedInterpreterNotRun: an interpreter the attacker owns is never
// started; the same file owned by the user in a private folder is.
func TestUntrustedInterpreterNotRun(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "ran")
	fake := "#!/bin/sh\necho ran > " + mark + "\necho FWOK\n"
	shared := sharedFolder(t, map[string]string{"python3": fake})
	os.Chmod(filepath.Join(shared, "python3"), 0o755)
	_, _, err := Run(context.Background(), 10*time.Second, Spec{Path: filepath.Join(shared, "python3"), UID: os.Getuid()})
	var te *trust.Error
	if !errors.As(err, &te) || exists(mark) {
		t.Fatalf("err = %v, marker %v; want a trust refusal and no run", err, exists(mark))
	}
	own := filepath.Join(t.TempDir(), "python3")
	os.WriteFile(own, []byte(fake), 0o755)
	out, _, err := Run(context.Background(), 10*time.Second, Spec{Path: own, UID: os.Getuid()})
	if err != nil || strings.TrimSpace(out) != "FWOK" || !exists(mark) {
		t.Fatalf("control: %q %v", out, err)
	}
}

func TestFlags(t *testing.T) {
	for _, c := range []struct {
		lang    Lang
		version string
		want    []string
	}{
		{Python, "3.12.1", []string{"-I"}},
		{Python, "3.4", []string{"-I"}},
		{Python, "3.13.0rc1", []string{"-I"}},
		{Python, "3.3.7", []string{"-E", "-s"}},
		{Python, "2.7.18", []string{"-E", "-s"}},
		{Python, "", []string{"-E", "-s"}},
		{Python, "garbage", []string{"-E", "-s"}},
		{Ruby, "3.3.0", nil},
	} {
		if got := Flags(c.lang, c.version); !slices.Equal(got, c.want) {
			t.Errorf("Flags(%v, %q) = %v, want %v", c.lang, c.version, got, c.want)
		}
	}
}

func TestCleanEnv(t *testing.T) {
	env := []string{"PATH=/bin", "PYTHONPATH=/tmp", "RUBYOPT=-revil", "RUBYLIB=/tmp", "HOME=/h", "PYTHONSTARTUP=/tmp/x"}
	if got := CleanEnv(Python, env); !slices.Equal(got, []string{"PATH=/bin", "RUBYOPT=-revil", "RUBYLIB=/tmp", "HOME=/h"}) {
		t.Errorf("python: %v", got)
	}
	if got := CleanEnv(Ruby, env); !slices.Equal(got, []string{"PATH=/bin", "PYTHONPATH=/tmp", "HOME=/h", "PYTHONSTARTUP=/tmp/x"}) {
		t.Errorf("ruby: %v", got)
	}
}

// TestPrivateDir: made 0700 in a sticky shared folder; refused in a folder
// others can write without the sticky bit (our folder could be swapped).
func TestPrivateDir(t *testing.T) {
	sticky := filepath.Join(t.TempDir(), "sticky")
	os.Mkdir(sticky, 0o777)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	d, err := PrivateDir(sticky)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(d); !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v", d, fi.Mode())
	}
	open := filepath.Join(t.TempDir(), "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	if _, err := PrivateDir(open); !errors.Is(err, ErrPrivateFolder) {
		t.Errorf("non-sticky shared parent: err = %v", err)
	}
}

// TestRunTriesIsolatedFirst: a Python of unknown version gets -I; one that
// refuses it as Python 2.7 does (exit 2, "Unknown option: -I", nothing
// run) is run again with -E -s. Both stand-ins note their arguments.
func TestRunTriesIsolatedFirst(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	old := filepath.Join(dir, "python2.7")
	os.WriteFile(old, []byte("#!/bin/sh\necho \"$*\" >> "+log+"\nif [ \"$1\" = -I ]; then echo 'Unknown option: -I' >&2; exit 2; fi\necho ok\n"), 0o755)
	modern := filepath.Join(dir, "python3")
	os.WriteFile(modern, []byte("#!/bin/sh\necho \"$*\" >> "+log+"\necho ok\n"), 0o755)
	for _, c := range []struct{ path, want string }{
		{old, "-I -c pass\n-E -s -c pass\n"},
		{modern, "-I -c pass\n"},
	} {
		os.Remove(log)
		out, _, err := Run(context.Background(), 10*time.Second, Spec{Path: c.path, Args: []string{"-c", "pass"}, UID: os.Getuid()})
		b, _ := os.ReadFile(log)
		if err != nil || strings.TrimSpace(out) != "ok" || string(b) != c.want {
			t.Errorf("%s: out %q err %v runs %q, want %q", filepath.Base(c.path), out, err, b, c.want)
		}
	}
	// A real Python 2.7, where there is one, answers through the fallback.
	if py2 := "/root/.pyenv/versions/2.7.18/bin/python2.7"; exists(py2) {
		out, errOut, err := Run(context.Background(), 10*time.Second, Spec{Path: py2, Args: []string{"-c", "import sys; sys.stdout.write(str(sys.flags.no_user_site))"}, UID: os.Getuid()})
		if err != nil || out != "1" {
			t.Errorf("python2.7: %q %q %v", out, errOut, err)
		}
	}
	if py3 := "/usr/bin/python3"; exists(py3) {
		out, errOut, err := Run(context.Background(), 10*time.Second, Spec{Path: py3, Args: []string{"-c", "import sys; sys.stdout.write(str(sys.flags.isolated))"}, UID: os.Getuid()})
		if err != nil || out != "1" {
			t.Errorf("python3: isolated %q %q %v", out, errOut, err)
		}
	}
}
