package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// checkSample is one row of testdata/check/MANIFEST.tsv.
type checkSample struct {
	dir, note, source string
	exit              int
	tools             string
}

func readCheckManifest(t *testing.T) []checkSample {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "check", "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []checkSample
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := strings.Split(l, "\t")
		if len(c) != 5 || c[4] == "" {
			t.Fatalf("MANIFEST.tsv:%d: want 5 columns with a source", n)
		}
		code, err := strconv.Atoi(c[1])
		if err != nil {
			t.Fatalf("MANIFEST.tsv:%d: exit %q", n, c[1])
		}
		rows = append(rows, checkSample{dir: c[0], exit: code, tools: c[2], note: c[3], source: c[4]})
	}
	return rows
}

// copySample copies a sample into a private folder (the scanner reads only
// files the user owns that nobody else can write, whatever the checkout's
// umask) and installs venv.txt's distributions as .venv dist-info folders.
func copySample(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "venv.txt" {
			return installDists(dst, string(data))
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func installDists(project, list string) error {
	site := filepath.Join(project, ".venv", "lib", "python3.12", "site-packages")
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		name, version, _ := strings.Cut(strings.TrimSpace(l), " ")
		di := filepath.Join(site, name+"-"+version+".dist-info")
		if err := os.MkdirAll(di, 0o700); err != nil {
			return err
		}
		meta := "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\nSummary: x\n\nVersion: 0.0.0 in the body is not a header\n"
		if err := os.WriteFile(filepath.Join(di, "METADATA"), []byte(meta), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// TestCheckSamples runs `forkwatch check` (text and --json) on each sample
// project of testdata/check/MANIFEST.tsv: the exit code, the tools at
// risk, and the note a version the project does not pin must carry.
func TestCheckSamples(t *testing.T) {
	rows := readCheckManifest(t)
	if len(rows) < 8 {
		t.Fatalf("%d samples, want at least 8", len(rows))
	}
	for _, row := range rows {
		t.Run(row.dir, func(t *testing.T) {
			dir := copySample(t, filepath.Join("testdata", "check", row.dir))
			var text, js strings.Builder
			code, err := runCheck(dir, false, &text)
			if err != nil || code != row.exit {
				t.Fatalf("exit %d (%v), want %d:\n%s", code, err, row.exit, text.String())
			}
			if code2, _ := runCheck(dir, true, &js); code2 != code {
				t.Errorf("--json exit %d, text %d", code2, code)
			}
			var risky []string
			var summary map[string]any
			for _, l := range strings.Split(strings.TrimSpace(js.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("not one JSON object per line: %q", l)
				}
				switch m["kind"] {
				case "finding":
					if m["at_risk"] == true {
						risky = append(risky, m["tool"].(string))
						if m["fix"] == "" || m["file"] == "" || m["line"].(float64) < 1 || !strings.Contains(m["meaning"].(string), "macOS") {
							t.Errorf("finding without fix, place or meaning: %v", m)
						}
					}
				case "summary":
					summary = m
				}
			}
			sort.Strings(risky)
			risky = compactStrings(risky)
			if got := strings.Join(risky, ","); got != row.tools && !(got == "" && row.tools == "-") {
				t.Errorf("at risk: %q, want %q\n%s", got, row.tools, text.String())
			}
			if summary == nil || summary["exit"] != float64(row.exit) {
				t.Errorf("summary: %v", summary)
			}
			if row.note != "-" && (!strings.Contains(text.String(), row.note) || !strings.Contains(js.String(), row.note)) {
				t.Errorf("no %q in the output:\n%s", row.note, text.String())
			}
			if row.exit == 1 && !strings.Contains(text.String(), "AT RISK") {
				t.Errorf("text says nothing at risk:\n%s", text.String())
			}
		})
	}
}

func compactStrings(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// TestCheckVenvVersions: the versions a sample's venv has installed reach
// the verdict (billiard 4.2.0 forks: no "pins no billiard" note) and the
// JSON summary.
func TestCheckVenvVersions(t *testing.T) {
	dir := copySample(t, filepath.Join("testdata", "check", "celery-prefork-old-billiard"))
	var js strings.Builder
	if code, _ := runCheck(dir, true, &js); code != 1 {
		t.Fatalf("exit %d:\n%s", code, js.String())
	}
	if !strings.Contains(js.String(), `"py:billiard":"4.2.0"`) || strings.Contains(js.String(), "pins no billiard") {
		t.Errorf("the venv's billiard did not count:\n%s", js.String())
	}
}

// TestCheckUsage: exit 2 for a folder that is not there, a file, or too
// many arguments; the binary exits as runCheck says.
func TestCheckUsage(t *testing.T) {
	e := newTraceEnv(t)
	file := filepath.Join(e.home, "file")
	os.WriteFile(file, []byte("x"), 0o600)
	for _, args := range [][]string{{"check", filepath.Join(e.home, "nope")}, {"check", file}, {"check", "a", "b"}, {"check", "--bogus"}} {
		if out, errOut, code := e.run(args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, %q %q", args, code, out, errOut)
		}
	}
	safe := copySample(t, filepath.Join("testdata", "check", "celery-solo"))
	if _, _, code := e.run("check", safe); code != 0 {
		t.Errorf("check on a safe project: exit %d", code)
	}
	risky := copySample(t, filepath.Join("testdata", "check", "rq-worker-plain"))
	if out, _, code := e.run("check", "--json", risky); code != 1 || !strings.Contains(out, `"kind":"summary"`) {
		t.Errorf("check --json on a risky project: exit %d\n%s", code, out)
	}
}
