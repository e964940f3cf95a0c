package doctor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVersionManagers: the issue's "ignores $PYENV_ROOT and found 1
// interpreter where 10 exist": interpreters of pyenv at $PYENV_ROOT (and
// at `pyenv root` when the variable is unset), asdf, mise, rye (both
// layouts), pdm and hatch are found, each with its own documented origin.
func TestVersionManagers(t *testing.T) {
	m := newFakeMac(t)
	h := m.home
	pyenvRoot := filepath.Join(m.dir, "opt-pyenv")
	want := map[string]string{
		filepath.Join(pyenvRoot, "versions/3.12.4/bin/python3.12"):                               OriginPyenv,
		filepath.Join(pyenvRoot, "versions/3.11.9/bin/python3"):                                  OriginPyenv,
		filepath.Join(h, ".asdf/installs/python/3.10.14/bin/python3"):                            OriginAsdf,
		filepath.Join(h, ".local/share/mise/installs/python/3.13.1/bin/python3"):                 OriginMise,
		filepath.Join(h, ".rye/py/cpython@3.12.3/bin/python3"):                                   OriginRye,
		filepath.Join(h, ".rye/py/cpython@3.9.16/install/bin/python3"):                           OriginRye,
		filepath.Join(h, ".local/share/pdm/python/cpython@3.12.8/bin/python3"):                   OriginPdm,
		filepath.Join(h, "Library/Application Support/pdm/python/cpython@3.11.11/bin/python3"):   OriginPdm,
		filepath.Join(h, ".local/share/hatch/pythons/3.12/python/bin/python3"):                   OriginHatch,
		filepath.Join(h, "Library/Application Support/hatch/pythons/3.13/python/bin/python3.13"): OriginHatch,
	}
	for p := range want {
		m.fakePython(t, p, "3.12.1", "spawn", 0)
	}
	env := map[string]string{"PYENV_ROOT": pyenvRoot}
	o := m.options("darwin")
	o.Managers = defaultManagers(context.Background(), h, "darwin", func(k string) string { return env[k] })
	rep := runDoctor(t, o)
	for p, origin := range want {
		in := find(rep, p)
		if in == nil {
			t.Errorf("%s not found", p)
			continue
		}
		if in.Origin != origin {
			t.Errorf("%s: origin %q, want %q", p, in.Origin, origin)
		}
	}

	// No PYENV_ROOT: `pyenv root` says where.
	m.write(t, filepath.Join(m.bin, "pyenv"), "#!/bin/sh\n[ \"$1\" = root ] && echo '"+pyenvRoot+"'\n", 0o755)
	got := defaultManagers(context.Background(), h, "linux", func(string) string { return "" })
	if got.PyenvRoot != pyenvRoot {
		t.Errorf("pyenv root: %q, want %q", got.PyenvRoot, pyenvRoot)
	}
	// Neither: ~/.pyenv.
	m.write(t, filepath.Join(m.bin, "pyenv"), "#!/bin/sh\nexit 1\n", 0o755)
	if got := defaultManagers(context.Background(), h, "linux", func(string) string { return "" }); got.PyenvRoot != filepath.Join(h, ".pyenv") {
		t.Errorf("default pyenv root: %q", got.PyenvRoot)
	}
}

// TestOriginsDocumented: every origin the doctor can give is in the
// README's list (no "pyenv-shim").
func TestOriginsDocumented(t *testing.T) {
	readme, err := readFileString(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(readme, "(`origin`: ")
	if i < 0 {
		t.Fatal("README has no origin list")
	}
	list := strings.Join(strings.Fields(readme[i:i+strings.Index(readme[i:], ";")]), " ")
	for _, o := range []string{OriginPyenv, OriginAsdf, OriginMise, OriginRye, OriginPdm, OriginHatch, OriginUV, OriginConda, OriginVenv,
		OriginPythonOrg, OriginHomebrew, OriginCLT, OriginCLTStub, OriginSystem, OriginOther} {
		if !strings.Contains(list, " "+o+",") && !strings.HasSuffix(strings.TrimSpace(list), " "+o) {
			t.Errorf("origin %q is not in the README's list: %s", o, list)
		}
	}
}

// TestPageSaysNotAvailable: facts this system does not have read "not
// available on this system", never empty values; one interpreter is
// "1 Python interpreter".
func TestPageSaysNotAvailable(t *testing.T) {
	rep := Report{Time: time.Now(), Interpreters: []Interpreter{{Path: "/usr/bin/python3", Version: "3.11.2", Origin: OriginSystem}}}
	var html, text bytes.Buffer
	if err := WriteHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"page": html.String(), "text": text.String()} {
		if strings.Contains(s, "kern.coredump=,") || strings.Contains(s, "kern.coredump=<code></code>") || strings.Contains(s, "core /,") || strings.Contains(s, "new shells: ()") {
			t.Errorf("%s shows empty values", what)
		}
		if !strings.Contains(s, "not available on this system") {
			t.Errorf("%s does not say the facts are not available", what)
		}
	}
	if !strings.Contains(html.String(), "1 Python interpreter,") || strings.Contains(html.String(), "1 Python interpreters") {
		t.Error("page: not \"1 Python interpreter\"")
	}
}

func readFileString(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
