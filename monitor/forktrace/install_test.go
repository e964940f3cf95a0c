package forktrace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemPython3 is the machine's python3 used to make venvs: Debian's (a
// venv made from it is the common case of a system Python's venv), else
// the first one found.
func systemPython3(t testing.TB) string {
	for _, p := range []string{"/usr/bin/python3"} {
		if err := exec.Command(p, "-c", "import venv, ensurepip").Run(); err == nil {
			return p
		}
	}
	for _, p := range testPythons(t) {
		if maj, min := pythonVersion(t, p); maj == 3 && min >= 7 {
			return p
		}
	}
	t.Skip("no python3 with venv")
	return ""
}

// makeVenv creates a real venv (with pip, as users have them).
func makeVenv(t testing.TB, python, dir string) string {
	t.Helper()
	out, err := exec.Command(python, "-m", "venv", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m venv: %v\n%s (on Debian: apt-get install python3-venv)", err, out)
	}
	return dir
}

// treeHash hashes every name, mode, link target and file content under dir.
func treeHash(t testing.TB, dir string) (string, []string) {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			line += " -> " + l
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			line += " " + hex.EncodeToString(s[:8])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	s := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(s[:]), lines
}

func diffLines(a, b []string) string {
	in := map[string]int{}
	for _, l := range a {
		in[l]++
	}
	for _, l := range b {
		in[l]--
	}
	var d []string
	for l, n := range in {
		if n > 0 {
			d = append(d, "- "+l)
		} else if n < 0 {
			d = append(d, "+ "+l)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

// withPID replaces a report's pid, parent pid and time: a real report, as
// if the traced child had crashed now.
func withPID(t testing.TB, report string, pid, ppid int, when time.Time) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "report", "testdata", "reports", report))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	switch report {
	case "python27-objc-fork-cpython-75020.crash":
		s = strings.ReplaceAll(s, "13106", strconv.Itoa(pid))
		s = strings.ReplaceAll(s, "Python [13070]", fmt.Sprintf("Python [%d]", ppid))
		s = strings.Replace(s, "2017-07-03 10:28:23.591 -0400", when.Format("2006-01-02 15:04:05.000 -0700"), 1)
	default:
		t.Fatalf("no pid substitution for %s", report)
	}
	return []byte(s)
}

// TestEnableVenvEndToEnd: a real venv, the tracer enabled through Enable,
// a script forking through os.fork, a fork-context Pool and a
// ProcessPoolExecutor: each child has its record with the right line; a
// real crash report naming one child gains fork_site; Disable leaves the
// venv byte for byte as it was.
func TestEnableVenvEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a venv")
	}
	py := systemPython3(t)
	dir := t.TempDir()
	venv := makeVenv(t, py, filepath.Join(dir, "venv"))
	before, beforeLines := treeHash(t, venv)

	m := New(filepath.Join(dir, "support"), filepath.Join(dir, "home"))
	ctx := context.Background()
	e, err := m.Enable(ctx, venv)
	if err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if e.State != StateEnabled || !e.Registered || !strings.HasPrefix(e.SitePackages, venv) {
		t.Fatalf("after Enable: %+v", e)
	}
	// Enable's check run (python -I: whatever PYTHONDONTWRITEBYTECODE says)
	// leaves the module's bytecode beside it: an interpreter that had to
	// compile the tracer at each start would keep the compiler's 1.3 MB,
	// and every later fork() copy its page tables (BenchmarkTracer, "no
	// bytecode").
	if pyc, _ := filepath.Glob(filepath.Join(e.SitePackages, "__pycache__", moduleStem+".*.pyc")); len(pyc) != 1 {
		t.Errorf("the tracer's bytecode after Enable: %q", pyc)
	}
	// Enabling twice is an upgrade in place, not an error.
	if _, err := m.Enable(ctx, venv); err != nil {
		t.Fatalf("second Enable: %v", err)
	}

	res := runForks(t, filepath.Join(venv, "bin", "python"), "", nil)
	if !res.Loaded {
		t.Fatal("the venv's python did not load the tracer")
	}
	checkRecords(t, m.SpoolDir(), res)

	// A real crash report, its pid replaced by a pool worker's.
	child := res.Forks["multiprocessing.pool"][0]
	rec, err := Lookup(m.SpoolDir(), child)
	if err != nil {
		t.Fatal(err)
	}
	data := withPID(t, "python27-objc-fork-cpython-75020.crash", child, rec.PPID, time.Now())
	r, err := report.Parse(data)
	if r == nil {
		t.Fatalf("Parse: %v", err)
	}
	Enricher(m.SpoolDir())(r)
	lines := siteLines(t, forksScript(t))
	if r.ForkSite == nil || r.ForkSite.File != forksScript(t) || r.ForkSite.Line != lines["multiprocessing.pool"] || r.ForkSite.Function != "through_pool" {
		t.Fatalf("fork_site = %+v", r.ForkSite)
	}
	if r.ForkVia != "multiprocessing.pool" || len(r.ForkStack) == 0 || len(r.ForkStack) > MaxStack {
		t.Errorf("fork_via %q, %d frames", r.ForkVia, len(r.ForkStack))
	}
	// Shown relative to the parent's working folder (the test's: this package).
	want := fmt.Sprintf("fork tracer: forked at testdata/forks.py:%d in through_pool() via multiprocessing.pool", lines["multiprocessing.pool"])
	r.ParentCwd, _ = os.Getwd()
	if got := "fork tracer: " + Sentence(r); got != want {
		t.Errorf("Sentence = %q, want %q", got, want)
	}
	if !hasPrefixIn(r.Evidence, want) {
		t.Errorf("evidence %q lacks %q", r.Evidence, want)
	}

	st, err := m.Status(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Target != venv || !st[0].Enabled() {
		t.Errorf("Status = %+v", st)
	}

	if _, err := m.Disable(ctx, venv); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	after, afterLines := treeHash(t, venv)
	if after != before {
		t.Errorf("venv changed by enable+disable:\n%s", diffLines(beforeLines, afterLines))
	}
	st, _ = m.Status(ctx, []string{venv})
	if len(st) != 1 || st[0].State != StateDisabled || !st[0].Registered {
		t.Errorf("Status after Disable = %+v", st)
	}
}

func hasPrefixIn(list []string, p string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// TestEnableRefuses: system Pythons, old Pythons, files that are not ours,
// someone else's site-packages.
func TestEnableRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := New(filepath.Join(dir, "support"), dir)
	for _, p := range []string{"/usr/bin/python3", "/System/Library/Frameworks/Python.framework/Versions/2.7/bin/python",
		"/Library/Developer/CommandLineTools/usr/bin/python3", "/usr/lib/python3.11"} {
		if _, err := m.Enable(ctx, p); !errors.Is(err, ErrRefused) {
			t.Errorf("Enable(%s) = %v, want refused", p, err)
		}
	}
	for _, p := range []string{"/usr/local/bin/python3", "/opt/homebrew/bin/python3"} {
		if err := refuseSystem("interpreter", p); err != nil {
			t.Errorf("refuseSystem(%s) = %v", p, err)
		}
	}
	if err := refuseSystem("interpreter", "/usr/bin/python3"); !errors.Is(err, ErrRefused) {
		t.Errorf("refuseSystem(/usr/bin/python3) = %v", err)
	}
	// The registry stays empty: nothing was installed.
	if _, err := os.Stat(m.RegistryPath()); err == nil {
		t.Error("refusals wrote a registry")
	}

	for _, py := range testPythons(t) {
		if maj, min := pythonVersion(t, py); maj == 2 || maj == 3 && min < 7 {
			if _, err := m.Enable(ctx, py); !errors.Is(err, ErrUnsupported) {
				t.Errorf("Enable(%s) = %v, want ErrUnsupported", py, err)
			}
		}
	}
}

// TestEnableForeignAndOwnership uses one venv for the refusals that need a
// real site-packages.
func TestEnableForeignAndOwnership(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a venv")
	}
	ctx := context.Background()
	dir := t.TempDir()
	venv := filepath.Join(dir, "venv")
	if out, err := exec.Command(systemPython3(t), "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v %s", err, out)
	}
	m := New(filepath.Join(dir, "support"), dir)
	site, err := m.query(ctx, filepath.Join(venv, "bin", "python"))
	if err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(site.Purelib, ModuleName)
	os.WriteFile(foreign, []byte("print('someone else')\n"), 0o644)
	if _, err := m.Enable(ctx, venv); !errors.Is(err, ErrNotOurs) {
		t.Errorf("Enable over a foreign module = %v", err)
	}
	if b, _ := os.ReadFile(foreign); string(b) != "print('someone else')\n" {
		t.Error("foreign module overwritten")
	}
	if _, err := m.Disable(ctx, venv); !errors.Is(err, ErrNotOurs) {
		t.Errorf("Disable with a foreign module = %v", err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Error("Disable removed a foreign module")
	}
	os.Remove(foreign)

	if os.Geteuid() == 0 {
		// Root must not leave root-owned files in a user's venv.
		if err := os.Chown(site.Purelib, 12345, 12345); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Enable(ctx, venv); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "uid 12345") {
			t.Errorf("Enable as root into uid 12345's venv = %v", err)
		}
		os.Chown(site.Purelib, 0, 0)
		// A folder on a read-only file system: not writable, clear error.
		mountReadOnly(t, site.Purelib)
		if _, err := m.Enable(ctx, venv); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("Enable into a read-only site-packages = %v", err)
		}
	}
}

// TestStatusDeletedVenvAndUninstallAll: a deleted venv took its tracer
// with it; UninstallAll removes every tracer in the registry, the spool and
// the registry, and leaves everything else in the support folder.
func TestStatusDeletedVenvAndUninstallAll(t *testing.T) {
	if testing.Short() {
		t.Skip("makes venvs")
	}
	ctx := context.Background()
	dir := t.TempDir()
	py := systemPython3(t)
	var venvs []string
	for _, n := range []string{"a", "b", "c"} {
		v := filepath.Join(dir, n)
		if out, err := exec.Command(py, "-m", "venv", "--without-pip", v).CombinedOutput(); err != nil {
			t.Fatalf("venv: %v %s", err, out)
		}
		venvs = append(venvs, v)
	}
	support := filepath.Join(dir, "support")
	os.MkdirAll(support, 0o700)
	os.WriteFile(filepath.Join(support, "state.json"), []byte("{}"), 0o600)
	m := New(support, dir)
	hashes := map[string]string{}
	for _, v := range venvs {
		hashes[v], _ = treeHash(t, v)
		if _, err := m.Enable(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	writeSlot(t, m.SpoolDir(), 4242, []byte(`{"pid":4242}`+"\n"))
	os.RemoveAll(venvs[2])

	st, err := m.Status(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range st {
		got[e.Target] = e.State
	}
	if got[venvs[0]] != StateEnabled || got[venvs[1]] != StateEnabled || got[venvs[2]] != StateGone {
		t.Errorf("Status = %v", got)
	}
	// The registry lost (support folder wiped by hand): Status still finds
	// the tracers in the usual places.
	m2 := New(filepath.Join(dir, "support2"), dir)
	m2.Places = []string{filepath.Join(dir, "*", "lib", "python3*", "site-packages")}
	st, _ = m2.Status(ctx, nil)
	found := 0
	for _, e := range st {
		if e.State == StateOther && !e.Registered {
			found++
		}
	}
	if found != 2 {
		t.Errorf("left-behind tracers found: %d, want 2: %+v", found, st)
	}

	removed, err := m.UninstallAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range venvs[:2] {
		if h, _ := treeHash(t, v); h != hashes[v] {
			t.Errorf("%s not as before after UninstallAll", v)
		}
	}
	for _, p := range []string{m.SpoolDir(), m.RegistryPath(), m.Dir} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s still there", p)
		}
	}
	if _, err := os.Stat(filepath.Join(support, "state.json")); err != nil {
		t.Error("UninstallAll removed state.json")
	}
	if len(removed) < 5 {
		t.Errorf("removed = %v", removed)
	}
}

// fakePython writes an executable script that answers the interpreter
// query with answer (a JSON line) after sleeping sleep seconds.
func fakePython(t *testing.T, dir, answer string, sleep int) string {
	t.Helper()
	p := filepath.Join(dir, "python3")
	script := fmt.Sprintf("#!/bin/sh\nsleep %d\ncat <<'EOF'\n%s\nEOF\n", sleep, answer)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEnableOddInterpreters: an externally managed Python (PEP 668), one
// that hangs, one that answers garbage or names a relative folder: each a
// clear error, nothing written.
func TestEnableOddInterpreters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	stdlib, site := filepath.Join(dir, "lib"), filepath.Join(dir, "site")
	os.MkdirAll(stdlib, 0o755)
	os.MkdirAll(site, 0o755)
	os.WriteFile(filepath.Join(stdlib, "EXTERNALLY-MANAGED"), []byte("[externally-managed]\n"), 0o644)
	answer := func(prefix, base string) string {
		return fmt.Sprintf(`{"version": [3, 12, 4], "executable": "x", "prefix": %q, "base_prefix": %q, "purelib": %q, "stdlib": %q, "fork_hook": true, "loaded": false}`,
			prefix, base, site, stdlib)
	}
	m := New(filepath.Join(dir, "support"), dir)
	m.Timeout = 2 * time.Second
	cases := []struct {
		name, answer string
		sleep        int
		want         string
	}{
		{"externally-managed", answer(dir, dir), 0, "managed by its distributor"},
		{"hangs", answer(dir, dir), 5, "timed out"},
		{"garbage", "Python 3.12.4 says hello", 0, "unexpected answer"},
		{"relative site", `{"version": [3, 12, 4], "purelib": "lib/site-packages", "fork_hook": true}`, 0, "names no site-packages"},
		// A venv of it is fine up to the load check (the fake cannot load).
		{"venv", answer(filepath.Join(dir, "venv"), dir), 0, "removed again"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			py := fakePython(t, d, c.answer, c.sleep)
			start := time.Now()
			_, err := m.Enable(ctx, py)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Enable = %v, want %q", err, c.want)
			}
			if time.Since(start) > 4*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			// Refused, or (the venv) installed, not loaded, and removed again.
			if ents, _ := os.ReadDir(site); len(ents) != 0 {
				t.Errorf("left in site-packages: %v", ents)
			}
			if st, _ := m.Status(ctx, nil); len(st) != 0 {
				t.Errorf("registry: %+v", st)
			}
		})
	}
}
