package doctor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func sampleReport(t *testing.T, probe bool) Report {
	m := newFakeMac(t)
	m.setState(t, "sysctl.kern.coredump", "1\n")
	m.setState(t, "sysctl.kern.corefile", "/cores/core.%P\n")
	py := filepath.Join(m.home, "bin<script>alert(1)</script>", "python3")
	m.fakePython(t, py, "3.12.0", "spawn", 0)
	o := m.options("darwin")
	o.PATH = filepath.Dir(py)
	if probe {
		real := realPython(t)
		fake := fakeObjcPython(t, real)
		o.PATH += ":" + filepath.Dir(fake)
		o.Probe = true
		o.ProbePythons = []string{fake}
	}
	return runDoctor(t, o)
}

// The JSON lines carry the documented fields; probe only with --probe.
func TestWriteJSONFields(t *testing.T) {
	for _, probe := range []bool{false, true} {
		rep := sampleReport(t, probe)
		var buf bytes.Buffer
		if err := WriteJSON(&buf, rep); err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		sc := bufio.NewScanner(&buf)
		sawProbe := false
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			kind, _ := m["kind"].(string)
			kinds[kind]++
			if kind != "interpreter" {
				continue
			}
			for _, f := range []string{"path", "real_path", "version", "origin", "start_method", "hardened_runtime", "get_task_allow", "core_from_shell", "core_from_launchd"} {
				if _, ok := m[f]; !ok {
					t.Errorf("interpreter line lacks %q: %s", f, sc.Text())
				}
			}
			for _, f := range []string{"core_from_shell", "core_from_launchd"} {
				v, _ := m[f].(map[string]any)
				if v["verdict"] == nil || v["reason"] == nil {
					t.Errorf("%s: %v", f, v)
				}
			}
			if p, ok := m["probe"].(map[string]any); ok {
				sawProbe = true
				w, _ := p["without"].(map[string]any)
				if w["outcome"] != "killed" || w["signal"] != "SIGABRT" || !strings.HasPrefix(w["message"].(string), "objc[") {
					t.Errorf("probe.without %v", w)
				}
				if y, _ := p["with"].(map[string]any); y["outcome"] != "survived" {
					t.Errorf("probe.with %v", y)
				}
			}
		}
		if sawProbe != probe {
			t.Errorf("probe field present %v, want %v", sawProbe, probe)
		}
		if kinds["fork_safety"] != 1 || kinds["core_system"] != 1 || kinds["interpreter"] < 1 {
			t.Errorf("kinds %v", kinds)
		}
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	rep := sampleReport(t, false)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script>") {
		t.Error("a path with <script> was not escaped")
	}
	if !strings.Contains(page, "&lt;script&gt;") || !strings.Contains(page, "Check This Mac") {
		t.Error("page lacks the escaped path or its title")
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("the page refers to outside resources")
	}
}

func TestWriteTextShowsVerdictsAndFixes(t *testing.T) {
	rep := sampleReport(t, true)
	var buf bytes.Buffer
	if err := WriteText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"PROBE WITHOUT", "killed (SIGABRT)", "objc[", "Fork safety", "apps started now:", "Fixes", "forkwatch set fork-safety-off on"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}
