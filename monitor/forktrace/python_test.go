package forktrace

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests run the tracer in real interpreters: every python3.X Debian
// installed, and every pyenv version (2.7 and 3.6 must be no-ops).

var (
	pythonsOnce sync.Once
	pythonsList []string
)

// testPythons lists the interpreters on this machine, one per version.
func testPythons(t testing.TB) []string {
	pythonsOnce.Do(func() {
		var cands []string
		debian, _ := filepath.Glob("/usr/bin/python3.*")
		for _, p := range debian {
			if regexp.MustCompile(`/python3\.[0-9]+$`).MatchString(p) {
				cands = append(cands, p)
			}
		}
		// Only looked at, never written: the machine's pyenv interpreters are
		// the several Python versions the tracer is tested under.
		root := os.Getenv("PYENV_ROOT")
		if root == "" {
			if h, err := os.UserHomeDir(); err == nil {
				root = filepath.Join(h, ".pyenv")
			}
		}
		pyenv, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "python"))
		cands = append(cands, pyenv...)
		seen := map[string]bool{}
		for _, p := range cands {
			out, err := exec.Command(p, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
			if err != nil {
				continue
			}
			v := strings.TrimSpace(string(out))
			key := v + " " + filepath.Dir(filepath.Dir(p))
			if seen[key] {
				continue
			}
			seen[key] = true
			pythonsList = append(pythonsList, p)
		}
		sort.Strings(pythonsList)
	})
	if len(pythonsList) == 0 {
		t.Skip("no python interpreter on this machine")
	}
	return pythonsList
}

// pythonVersion returns (major, minor) of an interpreter.
func pythonVersion(t testing.TB, py string) (int, int) {
	out, err := exec.Command(py, "-c", "import sys; print('%d %d' % sys.version_info[:2])").Output()
	if err != nil {
		t.Fatalf("%s: %v", py, err)
	}
	var a, b int
	if _, err := fmt.Sscan(string(out), &a, &b); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// forksScript is testdata/forks.py, absolute: the path its frames carry.
func forksScript(t testing.TB) string {
	p, err := filepath.Abs(filepath.Join("testdata", "forks.py"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// siteLines reads the "# SITE:way" marks of forks.py: way -> line.
func siteLines(t testing.TB, script string) map[string]int {
	f, err := os.Open(script)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if _, way, ok := strings.Cut(sc.Text(), "# SITE:"); ok {
			m[way] = n
		}
	}
	return m
}

// installInto writes the tracer into a site folder as Enable would, writing
// to spool.
func installInto(t testing.TB, site, spool string) {
	t.Helper()
	mod, err := moduleFor(spool)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, ModuleName), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, PthName), pthContent, 0o644); err != nil {
		t.Fatal(err)
	}
}

// forksResult is what forks.py prints.
type forksResult struct {
	Python string           `json:"python"`
	Loaded bool             `json:"loaded"`
	Forks  map[string][]int `json:"forks"`
	OK     map[string]bool  `json:"ok"`
}

// runForks runs forks.py with py (python, or a venv's python; site may be
// "" when the tracer is installed in the interpreter itself) and checks
// that every fork worked and that nothing was printed on stderr.
func runForks(t testing.TB, py, site string, env []string) forksResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{forksScript(t)}
	if site != "" {
		args = append(args, site)
	}
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s forks.py: %v\nstdout: %s\nstderr: %s", py, err, stdout.String(), stderr.String())
	}
	var res forksResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%s forks.py printed %q: %v (stderr %s)", py, stdout.String(), err, stderr.String())
	}
	for _, bad := range []string{"Traceback", "Exception ignored", "Error processing line", "forkwatch"} {
		if strings.Contains(stderr.String(), bad) {
			t.Errorf("%s: stderr mentions %q:\n%s", py, bad, stderr.String())
		}
	}
	for way, ok := range res.OK {
		if !ok {
			t.Errorf("%s: forking through %s did not work: %+v", py, way, res)
		}
	}
	if site != "" && !res.Loaded {
		t.Errorf("%s: the tracer was not imported", py)
	}
	return res
}

// checkRecords checks that each child of res has a record naming the
// right line of forks.py and the right way in.
func checkRecords(t testing.TB, spool string, res forksResult) {
	t.Helper()
	script := forksScript(t)
	lines := siteLines(t, script)
	for way, pids := range res.Forks {
		if len(pids) == 0 {
			t.Errorf("%s: no children", way)
		}
		for _, pid := range pids {
			rec, err := Lookup(spool, pid)
			if err != nil {
				t.Errorf("%s child %d: %v", way, pid, err)
				continue
			}
			site, ok := rec.ForkSite()
			if !ok {
				t.Errorf("%s child %d: no fork site in %+v", way, pid, rec)
				continue
			}
			wantVia := way
			if way == "os.fork" {
				wantVia = ViaUserCode
			}
			if site.Frame.File != script || site.Frame.Line != lines[way] || site.Via != wantVia || !site.User {
				t.Errorf("%s child %d: site %+v via %q, want %s:%d via %q", way, pid, site.Frame, site.Via, script, lines[way], wantVia)
			}
			if rec.PPID != os.Getpid() && rec.PPID <= 0 {
				t.Errorf("%s child %d: ppid %d", way, pid, rec.PPID)
			}
		}
	}
}

// countRecords counts the slots in use in a spool's record file.
func countRecords(t testing.TB, dir string) int {
	b, err := os.ReadFile(RingPath(dir))
	if err != nil {
		return 0
	}
	n := 0
	for i := 0; i+SlotSize <= len(b); i += SlotSize {
		if b[i] != 0 {
			n++
		}
	}
	return n
}

// mountTmpfs mounts a tmpfs of size bytes at dir (root on Linux only).
func mountTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	canMount(t)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+itoa(size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
}

// mountReadOnly bind-mounts dir read-only over itself.
func mountReadOnly(t *testing.T, dir string) {
	t.Helper()
	canMount(t)
	if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only here: %v %s", err, out)
	}
}

// fill writes a file into dir until the disk is full.
func fill(t *testing.T, dir string) {
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
}

func canMount(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("mounting needs root on Linux")
	}
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("no mount command")
	}
}

// TestTracerUnderEveryPython: in every interpreter on the machine, the
// tracer records each child's fork site (3.7+) or does nothing (older), and
// no fork breaks whatever the spool is: missing, a file, symlinks, a record
// file that is a symlink, a FIFO or a folder, read-only, a full disk, a
// file-size limit.
func TestTracerUnderEveryPython(t *testing.T) {
	if testing.Short() {
		t.Skip("runs interpreters")
	}
	type mode struct {
		name  string
		setup func(t *testing.T, dir string) (spool string, env []string)
		// records: the tracer must write records into recordsIn.
		records   bool
		recordsIn func(dir string) string
		check     func(t *testing.T, dir string)
	}
	victim := func(dir string) string { return filepath.Join(dir, "victim") }
	ring := func(t *testing.T, dir string) string {
		s := filepath.Join(dir, "spool")
		if err := CreateRing(s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// spoolWith makes the spool folder with something else in the record
	// file's place.
	spoolWith := func(make func(ringPath, dir string) error) func(t *testing.T, dir string) (string, []string) {
		return func(t *testing.T, dir string) (string, []string) {
			s := filepath.Join(dir, "spool")
			os.Mkdir(s, 0o700)
			os.WriteFile(victim(dir), []byte("victim"), 0o600)
			if err := make(RingPath(s), dir); err != nil {
				t.Skip(err)
			}
			return s, nil
		}
	}
	victimUnchanged := func(t *testing.T, dir string) {
		if b, _ := os.ReadFile(victim(dir)); string(b) != "victim" {
			t.Errorf("written through a symlink: victim holds %q", b)
		}
	}
	modes := []mode{
		{name: "ok", records: true, setup: func(t *testing.T, dir string) (string, []string) {
			return ring(t, dir), nil
		}},
		{name: "missing", setup: func(t *testing.T, dir string) (string, []string) {
			return filepath.Join(dir, "spool"), nil
		}, check: func(t *testing.T, dir string) {
			if _, err := os.Lstat(filepath.Join(dir, "spool")); err == nil {
				t.Error("the tracer created the missing spool")
			}
		}},
		{name: "no-record-file", setup: spoolWith(func(string, string) error { return nil }),
			check: func(t *testing.T, dir string) {
				if _, err := os.Lstat(RingPath(filepath.Join(dir, "spool"))); err == nil {
					t.Error("the tracer created the record file")
				}
			}},
		{name: "spool-is-a-file", setup: func(t *testing.T, dir string) (string, []string) {
			s := filepath.Join(dir, "spool")
			os.WriteFile(s, []byte("keep"), 0o600)
			return s, nil
		}, check: func(t *testing.T, dir string) {
			if b, _ := os.ReadFile(filepath.Join(dir, "spool")); string(b) != "keep" {
				t.Errorf("file in the spool's place now holds %q", b)
			}
		}},
		{name: "spool-symlink-to-folder", records: true, recordsIn: func(dir string) string { return filepath.Join(dir, "real") },
			setup: func(t *testing.T, dir string) (string, []string) {
				if err := CreateRing(filepath.Join(dir, "real")); err != nil {
					t.Fatal(err)
				}
				s := filepath.Join(dir, "spool")
				os.Symlink(filepath.Join(dir, "real"), s)
				return s, nil
			}},
		{name: "spool-dangling-symlink", setup: func(t *testing.T, dir string) (string, []string) {
			s := filepath.Join(dir, "spool")
			os.Symlink(filepath.Join(dir, "nowhere"), s)
			return s, nil
		}, check: func(t *testing.T, dir string) {
			if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
				t.Error("the tracer created the symlink's target")
			}
		}},
		{name: "record-file-symlink", setup: spoolWith(func(p, dir string) error { return os.Symlink(victim(dir), p) }), check: victimUnchanged},
		{name: "record-file-symlink-dev-null", setup: spoolWith(func(p, dir string) error { return os.Symlink("/dev/null", p) })},
		{name: "record-file-fifo", setup: spoolWith(func(p, dir string) error { return mkfifo(p) })},
		{name: "record-file-folder", setup: spoolWith(func(p, dir string) error { return os.Mkdir(p, 0o700) })},
		{name: "file-size-limit", setup: func(t *testing.T, dir string) (string, []string) {
			return ring(t, dir), []string{"FORKS_FSIZE=100"}
		}},
		{name: "read-only", setup: func(t *testing.T, dir string) (string, []string) {
			s := ring(t, dir)
			mountReadOnly(t, s)
			return s, nil
		}},
		// A sparse record file (an older Forkwatch made it) on a full disk:
		// not mapped (a write into a hole through a mapping is a SIGBUS),
		// written with write(), which fails; every fork still works.
		{name: "disk-full-sparse", setup: func(t *testing.T, dir string) (string, []string) {
			s := filepath.Join(dir, "spool")
			os.Mkdir(s, 0o700)
			mountTmpfs(t, s, 64<<10)
			sparse, err := os.OpenFile(RingPath(s), os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			sparse.Truncate(RingSize)
			sparse.Close()
			fill(t, s)
			return s, nil
		}},
		// A record file with its blocks allocated, on a disk that is full:
		// the children write into the mapping, and their records are there.
		{name: "disk-full-allocated", records: true, setup: func(t *testing.T, dir string) (string, []string) {
			s := filepath.Join(dir, "spool")
			os.Mkdir(s, 0o700)
			mountTmpfs(t, s, RingSize+256<<10)
			if err := CreateRing(s); err != nil {
				t.Fatal(err)
			}
			fill(t, s)
			return s, nil
		}},
	}
	for _, py := range testPythons(t) {
		major, minor := pythonVersion(t, py)
		hooks := major > 3 || major == 3 && minor >= 7
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"-"+filepath.Base(py), func(t *testing.T) {
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					dir := t.TempDir()
					spool, env := m.setup(t, dir)
					site := filepath.Join(dir, "site")
					installInto(t, site, spool)
					res := runForks(t, py, site, env)
					if m.check != nil {
						m.check(t, dir)
					}
					in := spool
					if m.recordsIn != nil {
						in = m.recordsIn(dir)
					}
					switch {
					case m.records && hooks:
						checkRecords(t, in, res)
					case m.name == "ok" && !hooks:
						if n := countRecords(t, in); n != 0 {
							t.Errorf("Python %d.%d has no register_at_fork, yet %d records", major, minor, n)
						}
					}
				})
			}
		})
	}
}

// TestRecordsFollowChanges: the tracer reuses the record of a fork it has
// seen before (the same code, lines, process, thread and argv[0]); each
// fork of testdata/changes.py must still get a record that says what its
// fork was: the same line again, two sites taking turns, one site reached
// from two callers and at several depths (past MAX_FRAMES too), two equal
// code objects from two files, a chdir, argv[0] changed and sys.argv
// replaced or emptied, a thread started, a fork from that thread and the
// thread gone again, and a child forking in turn.
func TestRecordsFollowChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs interpreters")
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "changes.py"))
	eachTracedPython(t, func(t *testing.T, py, dir, spool, site string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, py, script, site)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("changes.py: %v\n%s", err, stderr.String())
		}
		var wants []struct {
			Tag, File, Function, Cwd, Argv0, Thread string
			Line, Depth, Threads, PPID, PID         int
		}
		if err := json.Unmarshal(out, &wants); err != nil {
			t.Fatalf("changes.py printed %q: %v", out, err)
		}
		if len(wants) < 30 {
			t.Fatalf("only %d forks: %s", len(wants), out)
		}
		last := map[int]float64{} // parent -> time of its last fork
		for _, w := range wants {
			r, err := Lookup(spool, w.PID)
			if err != nil {
				t.Errorf("%s (pid %d): %v", w.Tag, w.PID, err)
				continue
			}
			var top = r.Stack
			if len(top) == 0 {
				t.Errorf("%s: no stack", w.Tag)
				continue
			}
			if top[0].File != w.File || top[0].Line != w.Line || top[0].Function != w.Function {
				t.Errorf("%s: forked at %s:%d in %s, want %s:%d in %s", w.Tag, top[0].File, top[0].Line, top[0].Function, w.File, w.Line, w.Function)
			}
			// Outer frames go when a record would not fit its slot; the
			// "short" ones always fit: all MAX_FRAMES (48) of them.
			keep := MaxStack
			if strings.HasPrefix(w.Tag, "short") {
				keep = 48
			}
			if w.Depth <= keep && (len(r.Stack) != w.Depth || r.Truncated) || w.Depth > 48 && !r.Truncated ||
				keep == 48 && w.Depth > 48 && len(r.Stack) != 48 {
				t.Errorf("%s: %d frames (truncated %v), the stack was %d deep", w.Tag, len(r.Stack), r.Truncated, w.Depth)
			}
			if r.Cwd != w.Cwd || r.Argv0 != w.Argv0 || r.Thread != w.Thread || r.Threads != w.Threads || r.Threaded != (w.Threads > 1) || r.PPID != w.PPID {
				t.Errorf("%s: cwd %q argv0 %q thread %q threads %d threaded %v ppid %d, want %q %q %q %d %v %d",
					w.Tag, r.Cwd, r.Argv0, r.Thread, r.Threads, r.Threaded, r.PPID, w.Cwd, w.Argv0, w.Thread, w.Threads, w.Threads > 1, w.PPID)
			}
			if r.Time <= last[r.PPID] {
				t.Errorf("%s: time %f is not after the parent's last fork's (%f)", w.Tag, r.Time, last[r.PPID])
			}
			last[r.PPID] = r.Time
		}
	})
}

// TestThreadsForkAtOnce: four threads fork at once, 25 times each, each
// from its own line, with the interpreter switching threads as often as it
// can (the tracer's hooks are Python code, which a switch can interrupt):
// every record names its fork's line and thread.
func TestThreadsForkAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs interpreters")
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "threads.py"))
	eachTracedPython(t, func(t *testing.T, py, dir, spool, site string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, py, script, site)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("threads.py: %v\n%s", err, stderr.String())
		}
		var forks []struct {
			PID, Line        int
			Function, Thread string
		}
		if err := json.Unmarshal(out, &forks); err != nil || len(forks) != 100 {
			t.Fatalf("threads.py printed %q (%v)", out, err)
		}
		bad := 0
		for _, f := range forks {
			r, err := Lookup(spool, f.PID)
			if err != nil {
				t.Errorf("%s pid %d: %v", f.Function, f.PID, err)
				continue
			}
			if len(r.Stack) == 0 || r.Stack[0].Line != f.Line || r.Stack[0].Function != f.Function || r.Thread != f.Thread || !r.Threaded {
				if bad++; bad <= 5 {
					t.Errorf("%s in %s (pid %d): the record says %+v in %q (threaded %v)", f.Function, f.Thread, f.PID, r.Stack[:min(1, len(r.Stack))], r.Thread, r.Threaded)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%d of %d records wrong", bad, len(forks))
		}
	})
}
