package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/pages"
	"github.com/forkwatch/forkwatch/monitor/history"
)

// doctorFakes puts the doctor's fake system commands first on PATH and a
// fake interpreter in a temporary home.
func doctorFakes(t *testing.T) (home, py string) {
	t.Helper()
	dir := t.TempDir()
	home = filepath.Join(dir, "home")
	bin := filepath.Join(dir, "bin")
	state := filepath.Join(dir, "state")
	for _, d := range []string{home, bin, state, filepath.Join(dir, "tmp")} {
		os.MkdirAll(d, 0o755)
	}
	for _, n := range []string{"sysctl", "launchctl", "ps"} {
		b, err := os.ReadFile(filepath.Join("..", "settings", "doctor", "testdata", "fakes", n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(bin, n), b, 0o755)
	}
	os.WriteFile(filepath.Join(state, "sysctl.kern.coredump"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(state, "sysctl.kern.corefile"), []byte("/cores/core.%P\n"), 0o644)
	py = filepath.Join(home, "venvs", "p", "bin", "python3")
	os.MkdirAll(filepath.Dir(py), 0o755)
	os.WriteFile(py, []byte("#!/bin/sh\nprintf 'FW1\\t3.12.3\\tspawn\\t%s\\n' \"$0\"\n"), 0o755)
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	t.Setenv("FAKE_STATE", state)
	t.Setenv("TMPDIR", filepath.Join(dir, "tmp"))
	return home, py
}

func TestDoctorCommandJSON(t *testing.T) {
	home, py := doctorFakes(t)
	var out, errb bytes.Buffer
	page := filepath.Join(home, "page.html")
	code := run([]string{"doctor", "--json", "--python", py, "--html", page}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	kinds := map[string]int{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		kinds[m["kind"].(string)]++
		if m["kind"] == "interpreter" && m["path"] == py {
			if m["version"] != "3.12.3" || m["start_method"] != "spawn" {
				t.Errorf("interpreter line %v", m)
			}
			if _, ok := m["probe"]; ok {
				t.Error("probe present without --probe")
			}
		}
	}
	if kinds["interpreter"] < 1 || kinds["fork_safety"] != 1 {
		t.Errorf("kinds %v\n%s", kinds, out.String())
	}
	b, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(b), "Check This Mac") {
		t.Errorf("page: %v", err)
	}
	if !strings.Contains(errb.String(), "forkwatch doctor: wrote "+page) {
		t.Errorf("the written page's path is not printed: %q", errb.String())
	}
	// A folder that does not exist is an error naming it, never created.
	out.Reset()
	errb.Reset()
	missing := filepath.Join(home, "no", "such", "dir")
	code = run([]string{"doctor", "--html", filepath.Join(missing, "x.html")}, &out, &errb)
	if code != exitFailed || !strings.Contains(errb.String(), "the folder "+missing+" does not exist") || out.Len() != 0 {
		t.Errorf("--html into a missing folder: exit %d, %q %q", code, errb.String(), out.String())
	}
	if _, err := os.Stat(filepath.Join(home, "no")); err == nil {
		t.Error("doctor --html created the missing folders")
	}
}

func TestDoctorCommandUsage(t *testing.T) {
	doctorFakes(t)
	var out, errb bytes.Buffer
	if code := run([]string{"doctor", "--python", "/no/such/python"}, &out, &errb); code != 2 {
		t.Errorf("missing --python: exit %d", code)
	}
	if code := run([]string{"doctor", "extra"}, &out, &errb); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
}

// --probe on the real python3 (Linux: no Objective-C, the child survives).
func TestDoctorCommandProbeRealPython(t *testing.T) {
	doctorFakes(t)
	real, err := exec.LookPath("python3")
	if err != nil {
		// PATH is the fakes' now; look where the system keeps it.
		real = "/usr/bin/python3"
		if _, err := os.Stat(real); err != nil {
			t.Skip("no python3")
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"doctor", "--probe", "--python", real}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "not affected: no Objective-C runtime") {
		t.Errorf("output:\n%s", out.String())
	}
	// The outcome went into the history.
	r, err := history.OpenReader(appinfo.HistoryDBPath(), time.Local)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	probes, err := r.Probes(t.Context(), time.Time{})
	if err != nil || len(probes) != 1 || !probes[0].OK || !strings.Contains(probes[0].Detail, "not affected") {
		t.Errorf("probes in the history: %+v %v", probes, err)
	}
}

// The menu's "Check This Mac…" page lands in the support folder.
func TestDoctorPage(t *testing.T) {
	home, _ := doctorFakes(t)
	path, err := pages.DoctorPage(t.Context(), appinfo.SupportDir(), false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(path, home) || filepath.Base(path) != "check-this-mac.html" {
		t.Errorf("page at %s", path)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "<!DOCTYPE html>") {
		t.Errorf("page: %v", err)
	}
}
