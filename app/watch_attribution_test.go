package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatchAttributesLiveParent runs the real `forkwatch watch --json`
// against real crash reports that name a live parent: a real python3
// running a script named like gunicorn's entry point, in a project with a
// .venv. Each crash gets the parent's command line and folder, the project,
// the tool and its sourced fix, and one group for the loop; a crash whose
// parent has exited gets no attribution and says so.
func TestWatchAttributesLiveParent(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3")
	}
	// The interpreter itself, not a version manager's shim script.
	out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatal(err)
	}
	py = strings.TrimSpace(string(out))
	parent, proj, entry := startGunicornLike(t, py)
	gone := exec.Command(py, "-c", "pass")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the parent has started before the crashes

	report := childReport(t, py)

	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	p := startForkwatch(t, nil, s.args()...)
	p.ready()
	var groups []string
	for i, pid := range []int{61001, 61002} {
		stage := filepath.Join(s.dir, "stage")
		os.WriteFile(stage, report(pid, parent.Process.Pid), 0o644)
		os.Rename(stage, filepath.Join(s.reports, fmt.Sprintf("Python_%d_host.crash", i)))
		ev := p.event(wait)
		str := func(k string) string { v, _ := ev[k].(string); return v }
		if ev["kind"] != "crash" || ev["pid"] != float64(pid) {
			t.Fatalf("got %v", ev)
		}
		checks := map[string]bool{
			"parent_command": strings.Contains(str("parent_command"), entry+" shop.wsgi:app --workers 4"),
			"parent_cwd":     str("parent_cwd") == proj,
			"project":        str("project") == proj,
			"framework":      str("framework") == "gunicorn",
			"fix":            strings.Contains(str("fix"), "preload"),
			"fix_source":     strings.Contains(str("fix_source"), "gunicorn"),
			"group":          strings.HasPrefix(str("group"), fmt.Sprintf("parent:%d:", parent.Process.Pid)),
			"cause":          str("cause") == "fork-safety",
		}
		for k, ok := range checks {
			if !ok {
				t.Errorf("crash %d: %s = %q", pid, k, ev[k])
			}
		}
		groups = append(groups, str("group"))
	}
	if groups[0] != groups[1] {
		t.Errorf("one parent, two groups: %v", groups)
	}

	// The parent has exited: nothing is guessed.
	stage := filepath.Join(s.dir, "stage")
	os.WriteFile(stage, report(61003, gone.Process.Pid), 0o644)
	os.Rename(stage, filepath.Join(s.reports, "Python_gone_host.crash"))
	ev := p.event(wait)
	for _, k := range []string{"parent_command", "parent_cwd", "framework", "group"} {
		if v, _ := ev[k].(string); v != "" {
			t.Errorf("exited parent: %s = %q", k, v)
		}
	}
	if ev, _ := ev["evidence"].([]any); !strings.Contains(fmt.Sprint(ev), "parent exited") {
		t.Errorf("evidence does not say the parent exited: %v", ev)
	}
}

// startGunicornLike starts a live parent like gunicorn's: python running a
// script named like its entry point in a project with a .venv, until the
// test ends.
func startGunicornLike(t *testing.T, py string) (parent *exec.Cmd, proj, entry string) {
	root := t.TempDir()
	proj = filepath.Join(root, "src", "shop")
	os.MkdirAll(filepath.Join(proj, ".venv", "bin"), 0o755)
	os.WriteFile(filepath.Join(proj, "pyproject.toml"), []byte("[project]\nname = \"shop\"\n"), 0o644)
	entry = filepath.Join(proj, ".venv", "bin", "gunicorn")
	os.WriteFile(entry, []byte("import time\ntime.sleep(600)\n"), 0o755)
	parent = exec.Command(py, entry, "shop.wsgi:app", "--workers", "4")
	parent.Dir = proj
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })
	return parent, proj, entry
}

// childReport makes a real report (fontbakery's) into one of a child pid
// of ppid, crashed now, of this user, with py as the parent's name.
func childReport(t *testing.T, py string) func(pid, ppid int) []byte {
	data, err := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	if err != nil {
		t.Fatal(err)
	}
	return func(pid, ppid int) []byte {
		s := strings.NewReplacer(
			"Process:               Python [35706]", fmt.Sprintf("Process:               Python [%d]", pid),
			"Parent Process:        Python [35705]", fmt.Sprintf("Parent Process:        %s [%d]", filepath.Base(py), ppid),
			"Date/Time:             2020-07-17 14:40:47.658 +0200", "Date/Time:             "+time.Now().Format("2006-01-02 15:04:05.000 -0700"),
			// The crash is the user's own, as ReportCrash writes it: a
			// parent is used only when it belongs to the report's user.
			"User ID:               501", fmt.Sprintf("User ID:               %d", os.Getuid()),
		).Replace(string(data))
		return []byte(s + "\nBinary Images:\n       0x10c7a5000 -        0x10c7c6ff7 +Python (3.7.7) <9F3A2D16> /usr/local/bin/python3\n")
	}
}
