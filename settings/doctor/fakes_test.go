package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/settings"
)

// fakeMac is a temporary machine: a home, a root for /opt, /Library and
// /usr, fake system commands first on PATH (testdata/fakes: codesign,
// xcode-select, launchctl, sysctl, ps) keeping their state in files.
type fakeMac struct {
	dir, home, root, bin, state string
}

// newFakeMac installs the fakes named in tools (all when nil).
func newFakeMac(t *testing.T, tools ...string) *fakeMac {
	t.Helper()
	dir := t.TempDir()
	m := &fakeMac{dir: dir, home: filepath.Join(dir, "home"), root: filepath.Join(dir, "root"),
		bin: filepath.Join(dir, "bin"), state: filepath.Join(dir, "state")}
	for _, d := range []string{m.home, m.root, m.bin, m.state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if tools == nil {
		tools = []string{"codesign", "xcode-select", "launchctl", "sysctl", "ps"}
	}
	for _, name := range tools {
		b, err := os.ReadFile(filepath.Join("testdata", "fakes", name))
		if err != nil {
			t.Fatal(err)
		}
		m.write(t, filepath.Join(m.bin, name), string(b), 0o755)
	}
	t.Setenv("PATH", m.bin+":/usr/bin:/bin")
	t.Setenv("FAKE_STATE", m.state)
	t.Setenv("TMPDIR", filepath.Join(dir, "tmp"))
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
	return m
}

func (m *fakeMac) write(t *testing.T, p, content string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

func (m *fakeMac) setState(t *testing.T, name, content string) {
	m.write(t, filepath.Join(m.state, name), content, 0o644)
}

func (m *fakeMac) log() string {
	b, _ := os.ReadFile(filepath.Join(m.state, "log"))
	return string(b)
}

// fakePython writes an interpreter that answers the inventory's question
// like a real one (after delay), for version and start method.
func (m *fakeMac) fakePython(t *testing.T, p, version, method string, delay time.Duration) {
	t.Helper()
	sleep := ""
	if delay > 0 {
		sleep = fmt.Sprintf("sleep %.1f\n", delay.Seconds())
	}
	m.write(t, p, "#!/bin/sh\n"+sleep+"printf 'FW1\\t%s\\t%s\\t%s\\n' '"+version+"' '"+method+"' \"$0\"\n", 0o755)
}

func (m *fakeMac) options(goos string) Options {
	return Options{
		Roots:      Roots{Home: m.home, PATH: "", Root: m.root},
		GOOS:       goos,
		Settings:   settings.Env{Home: m.home, GOOS: goos, Shell: "/bin/zsh"},
		SupportDir: filepath.Join(m.home, "support"),
	}
}

// realPython is the real python3 binary (not a pyenv shim), or skips.
func realPython(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skip("python3 does not run")
	}
	return strings.TrimSpace(string(out))
}

// fakeObjcPython installs testdata/fakeobjc: a python3 that dies after
// fork() as macOS's does.
func fakeObjcPython(t *testing.T, real string) string {
	t.Helper()
	site, err := filepath.Abs(filepath.Join("testdata", "fakeobjc", "site"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join("testdata", "fakeobjc", "python3.in"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("@SITE@", site, "@REAL_PYTHON@", real).Replace(string(tmpl))
	p := filepath.Join(t.TempDir(), "bin", "python3")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func runDoctor(t *testing.T, o Options) Report {
	t.Helper()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func find(rep Report, path string) *Interpreter {
	for i := range rep.Interpreters {
		in := &rep.Interpreters[i]
		if in.Path == path || in.RealPath == path {
			return in
		}
		for _, a := range in.Aliases {
			if a == path {
				return in
			}
		}
	}
	return nil
}
