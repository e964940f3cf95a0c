package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectJSON: one JSON object per file and line, with the contract's
// keys; a file that cannot be read gets "error" and exit 1, the others are
// still printed; usage errors exit 2.
func TestInspectJSON(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.ips")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	files := []string{sample("python37-objc-fork-fontbakery-2982.crash"), filepath.Join(dir, "missing.ips"), fifo, sample("python313-duckdb-segv-chunkhound.ips")}
	out, code := runBinStdout(t, env, append([]string{"inspect", "--json"}, files...)...)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(files) {
		t.Fatalf("%d lines for %d files:\n%s", len(lines), len(files), out)
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if m["path"] != files[i] {
			t.Errorf("line %d path %v", i, m["path"])
		}
		switch i {
		case 1, 2:
			if m["error"] == nil {
				t.Errorf("line %d: want an error: %v", i, m)
			}
		default:
			for _, k := range []string{"format", "process", "pid", "parent_process", "parent_pid", "exe_path", "time", "os_version", "exception", "signal", "python", "fork_child", "objc_fork_safety", "cause", "advice"} {
				if _, ok := m[k]; !ok {
					t.Errorf("line %d lacks %s", i, k)
				}
			}
		}
	}
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	if first["objc_fork_safety"] != true || first["objc_class"] != "__NSCFConstantString" || first["format"] != "crash" || first["time"] != "2020-07-17T14:40:47+02:00" {
		t.Errorf("classification: %v", first)
	}
	if _, code := runBinStdout(t, env, "inspect"); code != 2 {
		t.Errorf("no files: exit %d", code)
	}
	human, code := runBinStdout(t, env, "inspect", sample("python39-rq-objc-fork-django-rq-574.ips"))
	if code != 0 || !strings.Contains(human, "killed after fork() by the Objective-C fork-safety check") {
		t.Errorf("human output (%d):\n%s", code, human)
	}
}
