package attribute

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// pythonWithMultiprocess finds a real python3 that imports multiprocess
// (Debian's python3-multiprocess, 0.70.12.2 here), or skips.
func pythonWithMultiprocess(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		out, err := exec.Command(p, "-c", "import sys, multiprocess; print(sys.executable)").Output()
		if err == nil {
			return strings.TrimSpace(string(out))
		}
		tried = append(tried, p)
	}
	// .ci/run installs python3-multiprocess on Linux: there a missing
	// module is a failure, not a skip (the macOS job has no such package).
	if os.Getenv("CI") != "" && runtime.GOOS == "linux" {
		t.Fatalf("no python3 with multiprocess (tried %v) under CI: .ci/run installs python3-multiprocess", tried)
	}
	t.Skipf("no python3 with multiprocess (tried %v): apt-get install python3-multiprocess", tried)
	return ""
}

// TestMultiprocessForksByDefaultOnMacOS reads the installed multiprocess's
// own context.py: on darwin its default context is fork (with a FIXME), which
// is what the multiprocess row says and why multiprocessing's row (spawn on
// macOS) does not fit it.
func TestMultiprocessForksByDefaultOnMacOS(t *testing.T) {
	py := pythonWithMultiprocess(t)
	out, err := exec.Command(py, "-c", `import inspect, multiprocess.context as c
src = inspect.getsource(c)
i = src.index("if sys.platform == 'darwin':\n        # bpo-33725")
print(src[i:i+400].splitlines()[3].strip())`).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "_default_context = DefaultContext(_concrete_contexts['fork'])") {
		t.Fatalf("multiprocess's darwin default is %q, not fork: the row needs re-reading", got)
	}
}

// TestAttributeMultiprocessLive: a real python3 whose script makes a
// multiprocess.Pool (pathos, p_tqdm and Hugging Face datasets' num_proc go
// through it) forks real workers; a real fork-child report (fontbakery#2982,
// killed by the Objective-C check) retargeted at one of them is attributed to
// multiprocess when the script's venv has it installed, with multiprocess's
// own fix, not multiprocessing's; without it in the venv, nothing is named.
func TestAttributeMultiprocessLive(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	py := pythonWithMultiprocess(t)
	for _, installed := range []bool{true, false} {
		t.Run(fmt.Sprintf("installed=%v", installed), func(t *testing.T) {
			root := t.TempDir()
			proj := filepath.Join(root, "proj")
			venv := filepath.Join(proj, ".venv")
			sp := filepath.Join(venv, "lib", "python3.11", "site-packages")
			if err := os.MkdirAll(filepath.Join(venv, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(sp, 0o755); err != nil {
				t.Fatal(err)
			}
			dists := []string{"dill-0.3.6.dist-info", "tqdm-4.66.1.dist-info"}
			if installed {
				dists = append(dists, "multiprocess-0.70.12.2.dist-info")
			}
			for _, d := range dists {
				if err := os.Mkdir(filepath.Join(sp, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(proj, "pyproject.toml"), []byte("[project]\nname = \"proj\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// The venv's interpreter: a link to the real one, as venv makes.
			vpy := filepath.Join(venv, "bin", "python3")
			if err := os.Symlink(py, vpy); err != nil {
				t.Fatal(err)
			}
			pidFile := filepath.Join(root, "workers")
			script := filepath.Join(proj, "train.py")
			body := fmt.Sprintf(`import time
import multiprocess

def work(x):
    time.sleep(120)

if __name__ == "__main__":
    pool = multiprocess.Pool(2)
    open(%q, "w").write(" ".join(str(p.pid) for p in pool._pool))
    time.sleep(120)
`, pidFile)
			if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(vpy, script)
			cmd.Dir = proj
			workers := startForkingParent(t, cmd, pidFile, 15*time.Second, "the pool")
			w, err := newProcReader()(workers[0])
			if err != nil || w.PPID != cmd.Process.Pid {
				t.Fatalf("worker %d: %+v, %v: not a fork of the script", workers[0], w, err)
			}
			live, err := newProcReader()(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			data := retarget(t, "python37-objc-fork-fontbakery-2982.crash", workers[0], cmd.Process.Pid, live.Comm, time.Now())
			r, _ := report.Parse(data)
			if r == nil || !r.ObjCForkSafety {
				t.Fatalf("the retargeted report: %+v", r)
			}
			NewAttributor().Enrich(r)
			if r.Venv != venv {
				t.Fatalf("venv %q, want %q (command %q)", r.Venv, venv, r.ParentCommand)
			}
			if !installed {
				if r.Framework != "" {
					t.Errorf("named %q by %q without multiprocess in the venv (evidence %q)", r.Framework, r.FrameworkEvidence, r.Evidence)
				}
				return
			}
			if r.Framework != "multiprocess" || r.FrameworkEvidence != report.EvidenceVenv {
				t.Fatalf("tool %q by %q, want multiprocess by venv contents (evidence %q)", r.Framework, r.FrameworkEvidence, r.Evidence)
			}
			if !strings.Contains(r.Fix, "multiprocess.set_start_method('spawn', force=True)") || strings.Contains(r.Fix, "multiprocessing.set_start_method") {
				t.Errorf("fix %q: want multiprocess's own", r.Fix)
			}
			if got := report.GroupLabel(r); got != "train (proj)" {
				t.Errorf("label %q", got)
			}
		})
	}
}
