package forktrace

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestQueryPlantedModule: `forkwatch trace status` typed in a shared folder
// where uid 65534 left json.py and sysconfig.py (the query imports both).
// Run as the query ran before (-E -s, the caller's folder) the planted
// module runs: the attack. Through Manager.query it does not, and the
// interpreter still answers with its site-packages (the control).
func TestQueryPlantedModule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to plant files as uid 65534")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	if out, err := exec.Command(python, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		python = string(out[:len(out)-1])
	}
	mark := filepath.Join(t.TempDir(), "ran")
	shared := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777|os.ModeSticky)
	for _, name := range []string{"json.py", "sysconfig.py"} {
		p := filepath.Join(shared, name)
		os.WriteFile(p, []byte("open('"+mark+"', 'a').write('"+name+"')\n"), 0o644)
		os.Chown(p, 65534, 65534)
	}
	t.Chdir(shared)
	exec.Command(python, "-E", "-s", "-c", queryScript).Run()
	if _, err := os.Stat(mark); err != nil {
		t.Fatal("the planted module did not run without the fix: the test cannot see the attack")
	}
	os.Remove(mark)
	m := New(t.TempDir(), t.TempDir())
	in, err := m.query(context.Background(), python)
	if err != nil || in.Purelib == "" {
		t.Fatalf("control: query: %+v %v", in, err)
	}
	if b, err := os.ReadFile(mark); err == nil {
		t.Errorf("planted %s ran through the query", b)
	}
}
