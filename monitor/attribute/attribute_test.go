package attribute

import (
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// realPython finds the python3 executable itself (not a pyenv shim, which
// would exec a shell first), or skips.
func realPython(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skipf("python3: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// startParent starts a real Python process running a script at rel (under
// root, named like a tool's entry point) with the given arguments and
// working folder, and waits until it runs the script.
func startParent(t testing.TB, py, root, rel, cwd string, args ...string) *exec.Cmd {
	t.Helper()
	script := filepath.Join(root, strings.TrimPrefix(rel, "-m "))
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("import time\ntime.sleep(120)\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var argv []string
	if strings.HasPrefix(rel, "-m ") {
		argv = append([]string{"-m", strings.TrimSuffix(filepath.Base(rel[3:]), ".py")}, args...)
	} else {
		argv = append([]string{script}, args...)
	}
	cmd := exec.Command(py, argv...)
	cmd.Dir = cwd
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitForArgv(t, cmd.Process.Pid, argv[len(argv)-1])
	return cmd
}

// waitForArgv waits until the process's command line shows want (the exec
// has happened).
func waitForArgv(t testing.TB, pid int, want string) {
	t.Helper()
	read := newProcReader()
	for i := 0; i < 200; i++ {
		if p, err := read(pid); err == nil && len(p.Argv) > 0 && p.Argv[len(p.Argv)-1] == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never showed %q in its command line", pid, want)
}

var (
	reIPSPid        = regexp.MustCompile(`(?m)^  "pid" : \d+`)
	reIPSParentPid  = regexp.MustCompile(`(?m)^  "parentPid" : \d+`)
	reIPSParentProc = regexp.MustCompile(`(?m)^  "parentProc" : "[^"]*"`)
	reIPSCapture    = regexp.MustCompile(`(?m)^  "captureTime" : "[^"]*"`)
	reCrashProcess  = regexp.MustCompile(`(?m)^Process:(\s+)(\S+) \[\d+\]`)
	reCrashParent   = regexp.MustCompile(`(?m)^Parent Process:.*$`)
	reCrashDate     = regexp.MustCompile(`(?m)^Date/Time:.*$`)
	reIPSUserID     = regexp.MustCompile(`(?m)^  "userID" : \d+`)
	reCrashUserID   = regexp.MustCompile(`(?m)^User ID:(\s+)\S+$`)
)

// retarget takes a real report from testdata and makes it name a child
// pid, a live parent (pid and name) and a crash time, as a report of a
// crash happening now would. Lines a report lacks are added at its top.
// A report that names its user names this test's user, as ReportCrash
// writes it for the user's own crash.
func retarget(t testing.TB, file string, pid, ppid int, parent string, at time.Time) []byte {
	t.Helper()
	return retargetUser(t, file, pid, ppid, parent, at, os.Getuid())
}

// retargetUser is retarget with the report's user id set to uid where the
// report has one.
func retargetUser(t testing.TB, file string, pid, ppid int, parent string, at time.Time, uid int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "report", "testdata", "reports", file))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if strings.HasSuffix(file, ".ips") {
		s = replaceOrAdd(s, reIPSPid, fmt.Sprintf(`  "pid" : %d`, pid), true)
		s = replaceOrAdd(s, reIPSParentPid, fmt.Sprintf(`  "parentPid" : %d`, ppid), true)
		s = replaceOrAdd(s, reIPSParentProc, fmt.Sprintf(`  "parentProc" : %q`, parent), true)
		s = replaceOrAdd(s, reIPSCapture, fmt.Sprintf(`  "captureTime" : %q`, at.Format("2006-01-02 15:04:05.0000 -0700")), true)
		s = reIPSUserID.ReplaceAllLiteralString(s, fmt.Sprintf(`  "userID" : %d`, uid))
		return []byte(s)
	}
	if reCrashProcess.MatchString(s) {
		s = reCrashProcess.ReplaceAllString(s, fmt.Sprintf("Process:${1}${2} [%d]", pid))
	}
	s = reCrashUserID.ReplaceAllString(s, fmt.Sprintf("User ID:${1}%d", uid))
	s = replaceOrAdd(s, reCrashParent, fmt.Sprintf("Parent Process:        %s [%d]", parent, ppid), false)
	s = replaceOrAdd(s, reCrashDate, "Date/Time:             "+at.Format("2006-01-02 15:04:05.0000 -0700"), false)
	return []byte(s)
}

func replaceOrAdd(s string, re *regexp.Regexp, line string, ips bool) string {
	if re.MatchString(s) {
		return re.ReplaceAllLiteralString(s, line)
	}
	if ips {
		if strings.HasPrefix(s, "{") {
			// header line, then the body's "{" line
			head, rest, _ := strings.Cut(s, "\n")
			open, body, _ := strings.Cut(rest, "\n")
			return head + "\n" + open + "\n" + line + ",\n" + body
		}
		return line + ",\n" + s
	}
	return line + "\n" + s
}

// TestAttributeLiveParents starts a real parent per tool, feeds the
// enricher a real report of that tool retargeted at it, and checks every
// attribution field.
func TestAttributeLiveParents(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	py := realPython(t)
	cases := []struct {
		name      string
		report    string // a real report from testdata of a crash under this tool
		project   string // folder under the temp root
		script    string // the entry point, relative to the project
		args      []string
		framework string
		label     string
		venv      bool
		fix       bool // a death after fork: the tool's fix applies
	}{
		{"gunicorn", "python37-objc-fork-fontbakery-2982.crash", "shop", ".venv/bin/gunicorn", []string{"shop.wsgi:app", "-w", "4"}, "gunicorn", "gunicorn (shop)", true, true},
		{"celery", "python313-translated-celery-prefork-celery-7007.crash", "shop", ".venv/bin/celery", []string{"-A", "shop", "worker"}, "celery", "celery worker (shop)", true, false},
		{"rq", "python39-rq-objc-fork-django-rq-574.ips", "shop", ".venv/bin/rq", []string{"worker", "high", "default"}, "rq", "rq worker (shop)", true, true},
		{"ansible", "python310-translated-ansible-tasmota-33.crash", "infra", ".venv/bin/ansible-playbook", []string{"site.yml"}, "ansible", "ansible-playbook (infra)", true, false},
		{"airflow", "python312-fragment-airflow-setproctitle-airflow-45124.crash", "dags", "venv/bin/airflow", []string{"scheduler"}, "airflow", "airflow scheduler (dags)", true, true},
		{"uwsgi", "python27-objc-fork-cpython-75020.crash", "site", ".venv/bin/uwsgi", []string{"--ini", "uwsgi.ini"}, "uwsgi", "uwsgi (site)", true, true},
		{"jupyter kernel", "python27-objc-fork-cpython-75020.crash", "notebooks", "-m ipykernel_launcher.py", []string{"-f", "kernel.json"}, "jupyter", "Jupyter kernel (notebooks)", false, true},
		{"plain script, project from cwd", "python311-fork-child-virt-manager-196.ips", "tool", "train.py", []string{"--epochs", "3"}, "", "train (tool)", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			proj := filepath.Join(root, tc.project)
			if err := os.MkdirAll(filepath.Join(proj, "src"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(proj, "pyproject.toml"), []byte("[project]\nname = \"x\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			rel := filepath.Join(tc.project, tc.script)
			cwd := filepath.Join(proj, "src") // the project is found by walking up
			if strings.HasPrefix(tc.script, "-m ") {
				cwd = proj
				rel = "-m " + filepath.Join(tc.project, strings.TrimPrefix(tc.script, "-m "))
			}
			parent := startParent(t, py, root, rel, cwd, tc.args...)
			ppid := parent.Process.Pid

			data := retarget(t, tc.report, ppid+100000, ppid, "Python", time.Now())
			r, err := report.Parse(data)
			if r == nil {
				t.Fatalf("Parse: %v", err)
			}
			a := NewAttributor()
			a.Enrich(r)

			// A framework build's bin/python3.x execs Python.app/Contents/MacOS/Python
			// with argv[0] set to that path (python/cpython Mac/Tools/pythonw.c).
			if !strings.Contains(r.ParentCommand, tc.args[len(tc.args)-1]) || !(strings.Contains(r.ParentCommand, filepath.Base(py)) || strings.Contains(r.ParentCommand, "Python.app/Contents/MacOS/Python")) {
				t.Errorf("ParentCommand = %q, want the interpreter and %q", r.ParentCommand, tc.args)
			}
			// On macOS t.TempDir() is under /var/folders, a symlink to
			// /private/var/folders, and the kernel reports the resolved cwd.
			if !samePath(r.ParentCwd, cwd) {
				t.Errorf("ParentCwd = %q, want %q", r.ParentCwd, cwd)
			}
			if !samePath(r.Project, proj) {
				t.Errorf("Project = %q, want %q", r.Project, proj)
			}
			wantVenv := ""
			if tc.venv {
				wantVenv = filepath.Join(proj, strings.SplitN(tc.script, "/", 2)[0])
			}
			if !samePath(r.Venv, wantVenv) {
				t.Errorf("Venv = %q, want %q", r.Venv, wantVenv)
			}
			if r.Framework != tc.framework {
				t.Errorf("Framework = %q, want %q (evidence %q)", r.Framework, tc.framework, r.Evidence)
			}
			fw, _ := report.FrameworkByName(tc.framework)
			if tc.fix {
				if !r.ForkChild || r.Fix != fw.Fix || r.FixSource != fw.FixSource || !strings.HasPrefix(r.Advice, fw.Fix) {
					t.Errorf("fork child %v: Fix %q source %q advice %q, want the %s fix first", r.ForkChild, r.Fix, r.FixSource, r.Advice, tc.framework)
				}
			} else if r.Fix != "" && !r.ForkChild {
				t.Errorf("Fix = %q for a crash that is not a fork death", r.Fix)
			}
			live, err := newProcReader()(ppid)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("parent:%d:%d", ppid, live.Start.Unix()); r.Group != want {
				t.Errorf("Group = %q, want %q", r.Group, want)
			}
			if got := report.GroupLabel(r); got != tc.label {
				t.Errorf("GroupLabel = %q, want %q", got, tc.label)
			}
			if r.Interpreter == "" && r.Python && tc.report != "python312-fragment-airflow-setproctitle-airflow-45124.crash" {
				t.Errorf("Interpreter empty for %s", tc.report)
			}
		})
	}
}

// samePath compares two paths after filepath.EvalSymlinks (an empty or
// unresolvable one as it is).
func samePath(a, b string) bool {
	resolve := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil && p != "" {
			return r
		}
		return p
	}
	return resolve(a) == resolve(b)
}

// TestAttributeNoParent: a parent that exited, a pid now held by another
// program, and a pid whose process started after the crash get no
// attribution, and the evidence says why.
func TestAttributeNoParent(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	py := realPython(t)
	root := t.TempDir()
	live := startParent(t, py, root, "shop/.venv/bin/gunicorn", root, "app:app")

	dead := exec.Command(py, "-c", "pass")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := dead.Process.Pid

	cases := []struct {
		name   string
		ppid   int
		parent string
		at     time.Time
		reason string
	}{
		{"dead parent", deadPID, "Python", time.Now(), "parent exited"},
		{"pid reused by another program", live.Process.Pid, "ruby", time.Now(), "not \"ruby\""},
		{"pid reused after the crash", live.Process.Pid, "Python", time.Now().Add(-time.Hour), "after the crash"},
		{"report says the parent exited", live.Process.Pid, "Exited process", time.Now(), "parent exited"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := retarget(t, "python37-objc-fork-fontbakery-2982.crash", 99999, tc.ppid, tc.parent, tc.at)
			r, _ := report.Parse(data)
			if r == nil {
				t.Fatal("no report")
			}
			NewAttributor().Enrich(r)
			if r.ParentCommand != "" || r.ParentCwd != "" || r.Group != "" || r.Framework != "" || r.Project != "" || r.Venv != "" || r.Fix != "" {
				t.Errorf("attribution without a live parent: cmd %q cwd %q group %q fw %q project %q venv %q fix %q",
					r.ParentCommand, r.ParentCwd, r.Group, r.Framework, r.Project, r.Venv, r.Fix)
			}
			if !containsEvidence(r.Evidence, tc.reason) {
				t.Errorf("evidence %q does not say %q", r.Evidence, tc.reason)
			}
		})
	}
}

// TestEnrichCore: while a core is written the dying process is still in
// the table; its parent (here the test itself) is read from there.
func TestEnrichCore(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	py := realPython(t)
	child := startParent(t, py, t.TempDir(), "worker.py", "/")
	c := &report.CoreFile{Path: "/cores/core.1", PID: child.Process.Pid}
	NewAttributor().EnrichCore(c)
	if c.ParentPID != os.Getpid() || c.ParentCommand == "" || c.Group == "" || c.ParentCwd == "" {
		t.Errorf("EnrichCore = %+v, want the test process as parent", c)
	}
	// A core whose process name does not match the pid's: reused.
	c2 := &report.CoreFile{Path: "/cores/core.2", PID: child.Process.Pid, Process: "ruby"}
	NewAttributor().EnrichCore(c2)
	if c2.ParentPID != 0 || c2.Group != "" {
		t.Errorf("EnrichCore of a reused pid = %+v", c2)
	}
	// A process that is gone.
	_ = child.Process.Signal(syscall.SIGKILL)
	_ = child.Wait()
	c3 := &report.CoreFile{Path: "/cores/core.3", PID: child.Process.Pid}
	NewAttributor().EnrichCore(c3)
	if c3.ParentPID != 0 {
		t.Errorf("EnrichCore of an exited process = %+v", c3)
	}
}

// BenchmarkAttribute measures one attribution on the detection path with
// a live parent: reading its stat, command line and working folder, and
// recognising the tool.
func BenchmarkAttribute(b *testing.B) {
	py := realPython(b)
	root := b.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "shop"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "shop", "pyproject.toml"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	parent := startParent(b, py, root, "shop/.venv/bin/gunicorn", filepath.Join(root, "shop"), "app:app")
	data := retarget(b, "python37-objc-fork-fontbakery-2982.crash", 99999, parent.Process.Pid, "Python", time.Now())
	base, _ := report.Parse(data)
	a := NewAttributor()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := *base
		r.Evidence = append([]string(nil), base.Evidence...)
		a.Enrich(&r)
		if r.Framework != "gunicorn" {
			b.Fatalf("framework %q", r.Framework)
		}
	}
}
