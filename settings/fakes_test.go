package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fake system commands for tests (testdata/fakes): small shell scripts first
// on PATH that keep their state in files under a temporary folder. sysctl refuses writes
// unless run through the fake osascript's administrator path; osascript runs
// the real root script with its absolute paths pointed into the temporary
// root, so the constant script itself is what is tested.

type fakeSystem struct {
	bin, state, root string
	env              Env
}

// newFakeSystem installs the fakes and returns an Env with a temporary home.
func newFakeSystem(t *testing.T, goos string) *fakeSystem {
	t.Helper()
	dir := t.TempDir()
	fs := &fakeSystem{bin: filepath.Join(dir, "bin"), state: filepath.Join(dir, "state"), root: filepath.Join(dir, "root")}
	home := filepath.Join(dir, "home")
	for _, d := range []string{fs.bin, fs.state, filepath.Join(fs.root, "Library", "LaunchDaemons"), home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"sysctl", "launchctl", "osascript"} {
		script, err := os.ReadFile(filepath.Join("testdata", "fakes", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fs.bin, name), script, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(fs.state, "sysctl.kern.coredump"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(fs.state, "sysctl.kern.corefile"), []byte("/cores/core.%P\n"), 0o644)
	t.Setenv("PATH", fs.bin+":/usr/bin:/bin")
	t.Setenv("FAKE_STATE", fs.state)
	t.Setenv("FAKE_BIN", fs.bin)
	t.Setenv("FAKE_ROOT", fs.root)
	t.Setenv("FORKWATCH_LAUNCHDAEMONS_DIR", filepath.Join(fs.root, "Library", "LaunchDaemons"))
	fs.env = Env{
		Home: home, Shell: "/bin/zsh", Exe: "/Applications/Forkwatch.app/Contents/MacOS/forkwatch",
		UID: 501, GOOS: goos, PromptTimeout: 5 * time.Second,
		SupportDir: filepath.Join(home, "Library", "Application Support", "Forkwatch"),
	}
	return fs
}

func (fs *fakeSystem) log(t *testing.T) string {
	b, _ := os.ReadFile(filepath.Join(fs.state, "log"))
	return string(b)
}

func (fs *fakeSystem) osascriptLog() string {
	b, _ := os.ReadFile(filepath.Join(fs.state, "osascript.log"))
	return string(b)
}

// snapshot records every file under dir (path -> content and mode) so a
// test can check that a round trip left it exactly as it was.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			m[rel] = "link:" + l
		case fi.IsDir():
			m[rel] = "dir " + fi.Mode().String()
		default:
			b, _ := os.ReadFile(p)
			m[rel] = fi.Mode().String() + " " + string(b)
		}
		return nil
	})
	return m
}

func diffSnapshots(a, b map[string]string) string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, "changed or gone: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "added: "+k)
		}
	}
	return strings.Join(out, "\n")
}
