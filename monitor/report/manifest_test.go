package report

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// manifestRow is one line of a MANIFEST.md table of real crash reports.
type manifestRow struct {
	cols map[string]string
}

func (r manifestRow) get(k string) (string, bool) {
	v, ok := r.cols[k]
	return v, ok
}

// readManifest parses the markdown table in a MANIFEST.md.
func readManifest(t *testing.T, path string) []manifestRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open manifest: %v", err)
	}
	defer f.Close()
	var header []string
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			header = cells
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		row := manifestRow{cols: map[string]string{}}
		for i, h := range header {
			if i < len(cells) {
				row.cols[h] = cells[i]
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func yes(s string) bool { return strings.HasPrefix(strings.ToLower(s), "yes") }

func checkManifest(t *testing.T, dir string, rows []manifestRow) {
	for _, row := range rows {
		name := row.cols["file"]
		t.Run(name, func(t *testing.T) {
			r, err := ReadFile(filepath.Join(dir, name))
			if err != nil && !errors.Is(err, ErrIncomplete) {
				t.Fatalf("ReadFile: %v", err)
			}
			if r == nil {
				t.Fatalf("ReadFile returned no report (err %v)", err)
			}
			if want, ok := row.get("process"); ok {
				// The shared MANIFEST adds notes in parentheses.
				want = strings.TrimSpace(strings.SplitN(want, "(", 2)[0])
				if r.Process != want {
					t.Errorf("process = %q, want %q", r.Process, want)
				}
			}
			if want, ok := row.get("pid"); ok {
				wantPID := 0
				if want != "–" && want != "-" {
					wantPID, _ = strconv.Atoi(want)
				}
				if r.PID != wantPID {
					t.Errorf("pid = %d, want %d", r.PID, wantPID)
				}
			}
			checkBool := func(col string, got bool) {
				if want, ok := row.get(col); ok && got != yes(want) {
					t.Errorf("%s = %v, want %s (evidence %q)", col, got, want, r.Evidence)
				}
			}
			checkBool("python", r.Python)
			checkBool("fork_child", r.ForkChild)
			checkBool("objc_fork_safety", r.ObjCForkSafety)
			if want, ok := row.get("partial"); ok {
				checkBool("partial", r.Partial)
				if yes(want) != errors.Is(err, ErrIncomplete) {
					t.Errorf("err = %v, want ErrIncomplete exactly when partial", err)
				}
			}
			for _, col := range []struct {
				name string
				got  string
			}{{"objc_class", r.ObjCClass}, {"trigger", r.Trigger}, {"cause", r.Cause}, {"interpreter", r.Interpreter},
				{"python_version", r.PythonVersion}, {"module", r.Module}, {"framework", r.Framework},
				// The runtime the report alone shows (python, ruby, php, perl, node,
				// or other when nothing in it names one), checked where the table has the column.
				{"runtime", r.Runtime}} {
				if want, ok := row.get(col.name); ok && want != "" {
					if want == "–" {
						want = ""
					}
					if col.got != want {
						t.Errorf("%s = %q, want %q", col.name, col.got, want)
					}
				}
			}
			if want, ok := row.get("format"); ok && (strings.HasPrefix(want, "ips") || strings.HasPrefix(want, "crash")) && !strings.HasPrefix(want, r.Format) {
				t.Errorf("format = %q, want %q", r.Format, want)
			}
			if r.Cause == "" || (r.Python && r.Advice == "") {
				t.Errorf("cause %q advice %q: want both for a Python crash", r.Cause, r.Advice)
			}
		})
	}
}

// TestManifest checks every real report in testdata against its MANIFEST row.
func TestManifest(t *testing.T) {
	rows := readManifest(t, "testdata/MANIFEST.md")
	if len(rows) < 20 {
		t.Fatalf("MANIFEST lists %d reports, want at least 20", len(rows))
	}
	entries, err := os.ReadDir("testdata/reports")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range rows {
		listed[r.cols["file"]] = true
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("testdata/reports/%s is not in the MANIFEST", e.Name())
		}
	}
	checkManifest(t, "testdata/reports", rows)
}

// TestSharedManifest checks ../shared/crash-reports, where present, against
// its own MANIFEST (the same kind of table, fewer columns).
func TestSharedManifest(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "crash-reports")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		t.Skipf("no shared crash reports beside the repository (%v)", err)
	}
	checkManifest(t, dir, readManifest(t, filepath.Join(dir, "MANIFEST.md")))
}

// TestReportsAsPasted: real reports cut or edited the way they reach bug
// trackers and the way CoreFoundation's own check shows in a backtrace.
func TestReportsAsPasted(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("testdata", "reports", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	fontbakery := read("python37-objc-fork-fontbakery-2982.crash")
	cut := fontbakery[:strings.Index(fontbakery, "may have been in progress")+len("may have been in prog")]
	airflow := read("python312-fragment-airflow-setproctitle-airflow-45124.crash")
	cfFrame := strings.Replace(airflow, "_CFBundleCopyLoadedImagePathForPointer + 84", cfForkSymbol+" + 0", 1)
	kalite := read("python27-sigsegv-fork-child-ka-lite-2844.crash")
	// The message as CoreFoundation prints it (DeepLabCut/DeepLabCut#1362).
	cfASI := strings.Replace(kalite, "Application Specific Information:\n", "Application Specific Information:\nThe process has forked and you cannot use this CoreFoundation functionality safely. You MUST exec().\n", 1)
	if cfASI == kalite || cfFrame == airflow {
		t.Fatal("the real reports changed: update the test")
	}
	cases := []struct {
		name, data, cause, evidence, class string
	}{
		{"objc line cut mid-line", cut, CauseForkSafety, "cut short", "__NSCFConstantString"},
		{"CoreFoundation check in the crashed thread", cfFrame, CauseCFFork, cfForkSymbol, ""},
		{"CoreFoundation message in the application specific information", cfASI, CauseCFFork, cfForkMessage, ""},
		{"headerless fragment, Python only in the frames", airflow, CauseForkChild, "libpython3.12.dylib", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := Parse([]byte(tc.data))
			if r == nil {
				t.Fatal("no report")
			}
			if r.Cause != tc.cause || !r.ForkChild || !r.Python || r.ObjCClass != tc.class {
				t.Errorf("cause %q fork child %v python %v class %q; want %q, true, true, %q", r.Cause, r.ForkChild, r.Python, r.ObjCClass, tc.cause, tc.class)
			}
			if !containsEvidence(r.Evidence, tc.evidence) {
				t.Errorf("evidence %q lacks %q", r.Evidence, tc.evidence)
			}
			if tc.cause == CauseCFFork && (!strings.Contains(r.Advice, "does not help") || !strings.Contains(r.Advice, "spawn")) {
				t.Errorf("advice %q: want exec/spawn and that the variable does not help", r.Advice)
			}
		})
	}
}
