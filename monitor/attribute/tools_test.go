package attribute

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// startScript starts a real interpreter (python3, ruby, perl, php) on a
// script at root/rel with the given arguments, in cwd, and waits until the
// process table shows want as the last word of its command line (a
// process that renames itself shows its title).
func startScript(t *testing.T, interp, root, rel, body, cwd, want string, args ...string) *exec.Cmd {
	t.Helper()
	script := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(interp, append([]string{script}, args...)...)
	cmd.Dir = cwd
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if want == "" && len(args) > 0 {
		want = args[len(args)-1]
	}
	waitForArgv(t, cmd.Process.Pid, want)
	return cmd
}

func interpreter(t *testing.T, name string) string {
	t.Helper()
	if name == "python3" {
		return realPython(t)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("no %s on PATH", name)
	}
	return p
}

// cfReport is a real fork-child report (ka-lite#2844) with CoreFoundation's
// own message added as rq#2235's reporter saw it.
func cfReport(t *testing.T, pid, ppid int, parent string) []byte {
	t.Helper()
	data := retarget(t, "python27-sigsegv-fork-child-ka-lite-2844.crash", pid, ppid, parent, time.Now())
	s := strings.Replace(string(data), "Application Specific Information:\n", "Application Specific Information:\nThe process has forked and you cannot use this CoreFoundation functionality safely. You MUST exec().\n", 1)
	if s == string(data) {
		t.Fatal("the ka-lite report changed: update the test")
	}
	return []byte(s)
}

// TestAttributeToolsLive starts real processes (python3, ruby, perl, php)
// with the command lines and process titles of the tools that fork,
// feeds the attributor real reports retargeted at them, and checks the
// tool, how it was recognised, the fix and the label.
func TestAttributeToolsLive(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	const sleepPy = "import time\ntime.sleep(120)\n"
	objc := "python37-objc-fork-fontbakery-2982.crash"
	nonPython := "sentry-cli-objc-fork-sentry-23823.crash" // a non-Python child killed by the check
	cases := []struct {
		name, interp, rel, body, want string
		args                          []string
		marker                        string // project marker file
		report                        string // "" = CoreFoundation variant of ka-lite
		tool, evidence, fix, label    string
	}{
		{"gunicorn with interpreter flags", "python3", ".venv/bin/gunicorn", sleepPy, "", []string{"app:app", "-w", "2"}, "pyproject.toml", objc, "gunicorn", report.EvidenceParent, "exactly YES", "gunicorn (proj)"},
		{"rq via python -m rq.cli", "python3", "rq/cli.py", sleepPy, "", []string{"worker", "default"}, "pyproject.toml", objc, "rq", report.EvidenceParent, "SpawnWorker", "rq worker (proj)"},
		{"rq, CoreFoundation's check", "python3", ".venv/bin/rq", sleepPy, "", []string{"worker", "high"}, "pyproject.toml", "", "rq", report.EvidenceParent, "rq.worker.SpawnWorker", "rq worker (proj)"},
		{"celery, CoreFoundation's check", "python3", ".venv/bin/celery", sleepPy, "", []string{"-A", "proj", "worker"}, "pyproject.toml", "", "celery", report.EvidenceParent, "-P solo", "celery worker (proj)"},
		{"airflow celery worker is celery's", "python3", "venv/bin/airflow", sleepPy, "", []string{"celery", "worker"}, "pyproject.toml", objc, "celery", report.EvidenceParent, "-P threads", "airflow celery worker (proj)"},
		{"huey process workers", "python3", ".venv/bin/huey_consumer", sleepPy, "", []string{"app.huey", "-k", "process"}, "pyproject.toml", objc, "huey", report.EvidenceParent, "-k greenlet", "huey_consumer (proj)"},
		{"pyspark daemon", "python3", "pyspark/daemon.py", sleepPy, "", nil, "pyproject.toml", objc, "pyspark", report.EvidenceParent, "spark.python.use.daemon=false", "pyspark daemon (proj)"},
		{"pytest --forked", "python3", ".venv/bin/pytest", sleepPy, "", []string{"--forked", "tests"}, "pyproject.toml", objc, "pytest-forked", report.EvidenceParent, "drop --forked", "pytest --forked (proj)"},
		{"locust --processes", "python3", ".venv/bin/locust", sleepPy, "", []string{"--processes", "4"}, "pyproject.toml", objc, "locust", report.EvidenceParent, "locust --worker", "locust (proj)"},
		{"ansible-playbook", "python3", ".venv/bin/ansible-playbook", sleepPy, "", []string{"site.yml"}, "pyproject.toml", objc, "ansible", report.EvidenceParent, "control node", "ansible-playbook (proj)"},
		{"ansible-lint is not Ansible's controller", "python3", ".venv/bin/ansible-lint", sleepPy, "", []string{"site.yml"}, "pyproject.toml", objc, "", "", "", "ansible-lint (proj)"},
		{"puma in bin/rails server", "ruby", "bin/rails", "sleep 120\n", "", []string{"server"}, "Gemfile", nonPython, "puma", report.EvidenceParent, "workers 0", "rails server (proj)"},
		{"puma's cluster title", "ruby", "bin/puma", "$0 = 'puma 6.4.0 (tcp://0.0.0.0:3000) [proj]'\nsleep 120\n", "puma 6.4.0 (tcp://0.0.0.0:3000) [proj]", nil, "Gemfile", nonPython, "puma", report.EvidenceParent, "Fiddle.dlopen", "puma (proj)"},
		{"spring's title", "ruby", "bin/spring", "$0 = 'spring app    | proj | started 3 mins ago | development mode'\nsleep 120\n", "spring app    | proj | started 3 mins ago | development mode", nil, "Gemfile", nonPython, "spring", report.EvidenceParent, "DISABLE_SPRING=1", "spring (proj)"},
		{"resque-pool's title", "ruby", "bin/resque-pool", "$0 = 'resque-pool-master[proj]: managing [4242]'\nsleep 120\n", "resque-pool-master[proj]: managing [4242]", nil, "Gemfile", nonPython, "resque-pool", report.EvidenceParent, "FORK_PER_JOB=false", "resque-pool (proj)"},
		{"cpm under perl", "perl", "bin/cpm", "sleep 120;\n", "", []string{"install", "JSON"}, "cpanfile", nonPython, "cpm", report.EvidenceParent, "0.997017", "cpm (proj)"},
		{"php-fpm master title under php", "php", "php-fpm.php", "<?php cli_set_process_title('php-fpm: master process (/opt/homebrew/etc/php/8.2/php-fpm.conf)'); sleep(120);\n", "php-fpm: master process (/opt/homebrew/etc/php/8.2/php-fpm.conf)", nil, "composer.json", nonPython, "php-fpm", report.EvidenceParent, "__objc_fork_ok", "php-fpm (proj)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			interp := interpreter(t, tc.interp)
			root := t.TempDir()
			proj := filepath.Join(root, "proj")
			if err := os.MkdirAll(proj, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(proj, tc.marker), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			var parent *exec.Cmd
			if tc.rel == "rq/cli.py" || tc.rel == "pyspark/daemon.py" {
				// python -m pkg.mod from the project folder.
				mod := strings.ReplaceAll(strings.TrimSuffix(tc.rel, ".py"), "/", ".")
				if err := os.MkdirAll(filepath.Join(proj, filepath.Dir(tc.rel)), 0o755); err != nil {
					t.Fatal(err)
				}
				for _, f := range []string{filepath.Join(filepath.Dir(tc.rel), "__init__.py"), tc.rel} {
					if err := os.WriteFile(filepath.Join(proj, f), []byte(sleepPy), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				parent = exec.Command(interp, append([]string{"-X", "dev", "-m", mod}, tc.args...)...)
				parent.Dir = proj
				if err := parent.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })
				want := mod
				if len(tc.args) > 0 {
					want = tc.args[len(tc.args)-1]
				}
				waitForArgv(t, parent.Process.Pid, want)
			} else {
				parent = startScript(t, interp, proj, tc.rel, tc.body, proj, tc.want, tc.args...)
			}
			ppid := parent.Process.Pid
			live, err := newProcReader()(ppid)
			if err != nil {
				t.Fatal(err)
			}
			var data []byte
			if tc.report == "" {
				data = cfReport(t, ppid+100000, ppid, live.Comm)
			} else {
				data = retarget(t, tc.report, ppid+100000, ppid, live.Comm, time.Now())
			}
			r, _ := report.Parse(data)
			if r == nil {
				t.Fatal("no report")
			}
			if tc.report == "" && r.Cause != report.CauseCFFork {
				t.Fatalf("cause %q, want %q", r.Cause, report.CauseCFFork)
			}
			NewAttributor().Enrich(r)
			if r.Framework != tc.tool || r.FrameworkEvidence != tc.evidence {
				t.Fatalf("tool %q by %q, want %q by %q (command %q, evidence %q)", r.Framework, r.FrameworkEvidence, tc.tool, tc.evidence, r.ParentCommand, r.Evidence)
			}
			if tc.fix == "" && r.Fix != "" || !strings.Contains(r.Fix, tc.fix) {
				t.Errorf("fix %q, want one saying %q", r.Fix, tc.fix)
			}
			if r.Cause == report.CauseCFFork && strings.Contains(r.Fix, "OBJC_DISABLE_INITIALIZE_FORK_SAFETY") {
				t.Errorf("CoreFoundation's check offered the variable: %q", r.Fix)
			}
			if r.Project != proj {
				t.Errorf("project %q, want %q", r.Project, proj)
			}
			if got := report.GroupLabel(r); got != tc.label {
				t.Errorf("label %q, want %q", got, tc.label)
			}
		})
	}
}

// TestAttributeAirflowLocalExecutor: Airflow 3's LocalExecutor runs tasks in
// spawned worker processes (python -c "from multiprocessing.spawn import
// spawn_main..."), which fork the task supervisor. The crash's parent is
// such a worker, a real one started by a real "airflow scheduler" parent;
// the tool comes from the grandparent, with Airflow's fix, also for
// CoreFoundation's check.
func TestAttributeAirflowLocalExecutor(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	py := realPython(t)
	root := t.TempDir()
	pidFile := filepath.Join(root, "worker.pid")
	body := fmt.Sprintf(`import subprocess, sys, time
w = subprocess.Popen([sys.executable, "-c", "from multiprocessing.spawn import spawn_main; import time; time.sleep(120)", "--multiprocessing-fork"])
open(%q, "w").write(str(w.pid))
time.sleep(120)
`, pidFile)
	sched := startScript(t, py, root, "dags/venv/bin/airflow", body, filepath.Join(root, "dags"), "", "scheduler")
	var worker int
	for i := 0; i < 300 && worker == 0; i++ {
		if b, err := os.ReadFile(pidFile); err == nil {
			worker, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if worker == 0 {
		t.Fatal("the scheduler never started its worker")
	}
	waitForArgv(t, worker, "--multiprocessing-fork")
	defer func() {
		if p, err := os.FindProcess(worker); err == nil {
			_ = p.Kill()
		}
	}()
	for _, cf := range []bool{false, true} {
		var data []byte
		if cf {
			data = cfReport(t, worker+100000, worker, "Python")
		} else {
			data = retarget(t, "python37-objc-fork-fontbakery-2982.crash", worker+100000, worker, "Python", time.Now())
		}
		r, _ := report.Parse(data)
		if r == nil {
			t.Fatal("no report")
		}
		NewAttributor().Enrich(r)
		if r.Framework != "airflow" || r.FrameworkEvidence != report.EvidenceGrandparent {
			t.Fatalf("CF %v: tool %q by %q, want airflow by grandparent command (evidence %q)", cf, r.Framework, r.FrameworkEvidence, r.Evidence)
		}
		if !strings.Contains(r.Fix, "Upgrade Airflow") || strings.Contains(r.Fix, "set_start_method") {
			t.Errorf("CF %v: fix %q, want Airflow's, not multiprocessing's", cf, r.Fix)
		}
		if got := report.ProgramName(r); got != "airflow" {
			t.Errorf("program %q, want airflow", got)
		}
	}
	_ = sched
}

// TestListDists reads *.dist-info names only from a venv the user owns and
// nobody else can write, and the attributor uses them as evidence.
func TestListDists(t *testing.T) {
	venv := filepath.Join(t.TempDir(), ".venv")
	sp := filepath.Join(venv, "lib", "python3.12", "site-packages")
	for _, d := range []string{"rq-2.3.1.dist-info", "redis-5.0.1.dist-info", "rq"} {
		if err := os.MkdirAll(filepath.Join(sp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names, err := listDists(venv)
	if err != nil || strings.Join(names, ",") != "redis-5.0.1.dist-info,rq-2.3.1.dist-info" {
		t.Fatalf("listDists = %q, %v", names, err)
	}
	if err := os.Chmod(venv, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := listDists(venv); err == nil {
		t.Error("listed a venv that others can write")
	}
	if err := os.Chmod(venv, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := listDists("relative/.venv"); err == nil {
		t.Error("listed a relative path")
	}
}
