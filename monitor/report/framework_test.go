package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDoc = flag.Bool("update-fixes", false, "rewrite the table in docs/fixes.md from Frameworks()")

// docRow is one tool's row of docs/fixes.md as Frameworks() says it.
func docRow(fw Framework) string {
	cf := fw.CFFix
	switch {
	case cf == "":
		cf = "–"
	case cf == fw.Fix:
		cf = "same"
	}
	rt := fw.Runtime
	if fw.NotAffected {
		rt += " (not affected)"
	}
	return "| " + strings.Join([]string{fw.Name, rt, fw.Recognised, fw.Fix, cf, fw.FixSource, fw.SourceKind, fw.Checked}, " | ") + " |"
}

// TestFixesDoc keeps docs/fixes.md and Frameworks() in step: one row per
// tool, cell for cell (runtime, recognition, fix, CoreFoundation fix,
// source, source kind, date checked), no row for a tool the code lacks,
// every fix sourced and dated. go test -run FixesDoc -update-fixes
// rewrites the table.
func TestFixesDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "fixes.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	first, last := -1, -1
	for i, line := range lines {
		if strings.HasPrefix(line, "| tool | runtime |") {
			first = i + 2
		}
		if first >= 0 && i >= first && strings.HasPrefix(line, "| ") {
			last = i
		}
	}
	if first < 0 || last < first {
		t.Fatal("docs/fixes.md has no tool table")
	}
	if *updateDoc {
		var rows []string
		for _, fw := range Frameworks() {
			rows = append(rows, docRow(fw))
		}
		out := append(append(append([]string{}, lines[:first]...), rows...), lines[last+1:]...)
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got := map[string]string{}
	for _, line := range lines[first : last+1] {
		name := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(line, "| "), " | ", 2)[0])
		if _, dup := got[name]; dup {
			t.Errorf("docs/fixes.md has two rows for %s", name)
		}
		got[name] = line
	}
	kinds := map[string]bool{SourceDocs: true, SourceMaintainer: true, SourceUserReport: true}
	for _, fw := range Frameworks() {
		want := docRow(fw)
		switch row, ok := got[fw.Name]; {
		case !ok:
			t.Errorf("docs/fixes.md has no row for %s", fw.Name)
		case row != want:
			t.Errorf("%s: docs/fixes.md row differs from the code:\n doc:  %s\n code: %s", fw.Name, row, want)
		}
		delete(got, fw.Name)
		if fw.FixSource == "" || !kinds[fw.SourceKind] || fw.Checked == "" || fw.Runtime == "" || fw.Recognised == "" {
			t.Errorf("%s: source %q kind %q checked %q runtime %q: every row needs all four and how it is recognised", fw.Name, fw.FixSource, fw.SourceKind, fw.Checked, fw.Runtime)
		}
		if strings.Contains(fw.Fix+fw.Recognised+fw.CFFix, "|") {
			t.Errorf("%s: a | in a cell breaks the table", fw.Name)
		}
		if strings.Contains(fw.CFFix, "OBJC_DISABLE_INITIALIZE_FORK_SAFETY") {
			t.Errorf("%s: the CoreFoundation fix offers the variable, which does not help there", fw.Name)
		}
	}
	for name := range got {
		t.Errorf("docs/fixes.md has a row for %s, which the code does not know", name)
	}
}

func TestFrameworkFromCommand(t *testing.T) {
	cases := []struct {
		comm    string
		argv    []string
		want    string
		program string
	}{
		{"python3.12", []string{"/Users/a/shop/.venv/bin/python3.12", "/Users/a/shop/.venv/bin/gunicorn", "shop.wsgi", "-w", "4"}, "gunicorn", "gunicorn"},
		{"Python", []string{"gunicorn: master [shop.wsgi:application]"}, "gunicorn", "gunicorn"},
		{"python3", []string{"python3", "-X", "dev", "-m", "celery", "-A", "shop", "worker", "-l", "info"}, "celery", "celery worker"},
		{"Python", []string{"/opt/homebrew/bin/python3", "manage.py", "rqworker", "default"}, "rq", "rq worker"},
		{"python3.11", []string{"/usr/local/bin/python3.11", "/usr/local/bin/ansible-playbook", "-i", "hosts", "site.yml"}, "ansible", "ansible-playbook"},
		{"uwsgi", []string{"uwsgi", "--ini", "site.ini"}, "uwsgi", "uwsgi"},
		{"python3", []string{"python3", "-m", "ipykernel_launcher", "-f", "/x/kernel-1.json"}, "jupyter", "Jupyter kernel"},
		{"airflow", []string{"/x/venv/bin/python", "/x/venv/bin/airflow", "standalone"}, "airflow", "airflow standalone"},
		{"uv", []string{"uv", "run", "chunkhound", "index"}, "uv", "uv"},
		{"Python", []string{"python3", "train.py", "--epochs", "3"}, "", "train"},
		{"zsh", []string{"-zsh"}, "", "zsh"},
		{"Python", nil, "", "Python"},
	}
	for _, tc := range cases {
		fw, program := frameworkFromCommand(tc.comm, tc.argv)
		got := ""
		if fw != nil {
			got = fw.Name
		}
		if got != tc.want || program != tc.program {
			t.Errorf("frameworkFromCommand(%q, %q) = %q, %q; want %q, %q", tc.comm, tc.argv, got, program, tc.want, tc.program)
		}
	}
}

func TestInterpreterOf(t *testing.T) {
	cases := []struct {
		exe, bundle, version string
		images               []string
		origin, pyVersion    string
	}{
		{"/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12/Resources/Python.app/Contents/MacOS/Python", "org.python.python", "3.12.4", nil, "homebrew", "3.12.4"},
		{"/Library/Frameworks/Python.framework/Versions/3.11/Resources/Python.app/Contents/MacOS/Python", "org.python.python", "3.11.9", nil, "python.org", "3.11.9"},
		{"/Users/a/.pyenv/versions/3.10.14/bin/python3.10", "", "", nil, "pyenv", "3.10.14"},
		{"/Users/a/.local/share/uv/python/cpython-3.12.7-macos-aarch64-none/bin/python3.12", "", "", nil, "uv", "3.12.7"},
		{"/Users/a/miniforge3/envs/ml/bin/python3.11", "", "", nil, "conda", "3.11"},
		{"/Library/Developer/CommandLineTools/Library/Frameworks/Python3.framework/Versions/3.9/Resources/Python.app/Contents/MacOS/Python", "com.apple.python3", "3.9.6", nil, "clt", "3.9.6"},
		{"/System/Library/Frameworks/Python.framework/Versions/2.7/Resources/Python.app/Contents/MacOS/Python", "", "", nil, "system", "2.7"},
		{"/Users/a/shop/.venv/bin/python3.12", "", "", []string{"/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12/Python"}, "homebrew", "3.12.4"},
		{"/Users/a/shop/.venv/bin/python3.12", "", "", nil, "venv", "3.12"},
	}
	for _, tc := range cases {
		o, v := interpreterOf(tc.exe, tc.bundle, tc.version, tc.images)
		if o != tc.origin || v != tc.pyVersion {
			t.Errorf("interpreterOf(%q) = %q, %q; want %q, %q", tc.exe, o, v, tc.origin, tc.pyVersion)
		}
	}
}

func TestEnvOfAndModule(t *testing.T) {
	cases := []struct {
		images        []string
		venv, project string
	}{
		{[]string{"/Users/a/src/shop/.venv/lib/python3.12/site-packages/psycopg2/_psycopg.cpython-312-darwin.so"}, "/Users/a/src/shop/.venv", "/Users/a/src/shop"},
		{[]string{"/Users/a/miniforge3/envs/ml/lib/python3.11/site-packages/torch/lib/libtorch.dylib"}, "/Users/a/miniforge3/envs/ml", ""},
		{[]string{"/Users/a/.pyenv/versions/shop-3.11/lib/python3.11/site-packages/x/y.so"}, "/Users/a/.pyenv/versions/shop-3.11", ""},
		{[]string{"/Users/a/.pyenv/versions/3.11.9/lib/python3.11/site-packages/x/y.so"}, "", ""},
		{[]string{"/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12/lib/python3.12/site-packages/x/y.so"}, "", ""},
		{[]string{"/Users/USER/*/site-packages/duckdb.cpython-313-darwin.so"}, "", ""},
	}
	for _, tc := range cases {
		v, p := envOf(tc.images)
		if v != tc.venv || p != tc.project {
			t.Errorf("envOf(%q) = %q, %q; want %q, %q", tc.images, v, p, tc.venv, tc.project)
		}
	}
	mods := []struct{ image, path, want string }{
		{"duckdb.cpython-313-darwin.so", "/Users/USER/Documents/*/duckdb.cpython-313-darwin.so", "duckdb"},
		{"_pydantic_core.cpython-313-darwin.so", "/x/.venv/lib/python3.13/site-packages/pydantic_core/_pydantic_core.cpython-313-darwin.so", "pydantic_core"},
		{"libtorch_cpu.dylib", "/x/.venv/lib/python3.12/site-packages/torch/lib/libtorch_cpu.dylib", "torch"},
		{"_cffi_backend.cpython-312-darwin.so", "/x/.venv/lib/python3.12/site-packages/_cffi_backend.cpython-312-darwin.so", "_cffi_backend"},
	}
	for _, m := range mods {
		if got := moduleOf(m.image, m.path); got != m.want {
			t.Errorf("moduleOf(%q) = %q, want %q", m.image, got, m.want)
		}
	}
}

// TestParseProcArgs reads a kern.procargs2 buffer laid out as xnu's
// sysctl_procargsx writes it: argc (int32), the executable path, NUL
// padding, the arguments, then the environment.
