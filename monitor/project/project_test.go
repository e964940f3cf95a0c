package project

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var configsDir = filepath.Join("..", "report", "testdata", "configs")

type configRow struct {
	dir, file string
	line      int
	tool      string
	mode      string
	forks     bool
	source    string
}

func readConfigTable(t *testing.T) []configRow {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "report", "testdata", "configs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []configRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := strings.Split(l, "\t")
		if len(c) != 7 || c[6] == "" {
			t.Fatalf("configs.tsv:%d: want 7 columns with a source, got %d", n, len(c))
		}
		line, err := strconv.Atoi(c[2])
		if err != nil {
			t.Fatalf("configs.tsv:%d: line %q", n, c[2])
		}
		rows = append(rows, configRow{c[0], c[1], line, c[3], c[4], c[5] == "yes", c[6]})
	}
	return rows
}

// TestConfigTable reads every real configuration file of the cited table
// (monitor/report/testdata/configs.tsv) and checks each finding: tool,
// mode, whether it forks, file and line; and that nothing else was found.
func TestConfigTable(t *testing.T) {
	rows := readConfigTable(t)
	byDir := map[string][]configRow{}
	var dirs []string
	for _, r := range rows {
		if byDir[r.dir] == nil {
			dirs = append(dirs, r.dir)
		}
		byDir[r.dir] = append(byDir[r.dir], r)
	}
	if len(dirs) < 12 {
		t.Fatalf("configs.tsv covers %d projects, want at least 12", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			root := filepath.Join(configsDir, dir)
			res, err := Scan(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Skipped) > 0 {
				t.Errorf("skipped: %+v", res.Skipped)
			}
			want := byDir[dir]
			if len(res.Findings) != len(want) {
				t.Errorf("%d findings, want %d: %+v", len(res.Findings), len(want), res.Findings)
			}
			for _, w := range want {
				found := false
				for _, f := range res.Findings {
					if f.Tool == w.tool && f.File == filepath.Join(root, w.file) && f.Line == w.line {
						found = true
						if !strings.Contains(f.Mode, w.mode) || f.Forks != w.forks {
							t.Errorf("%s:%d: mode %q forks %v, want %q, %v", w.file, w.line, f.Mode, f.Forks, w.mode, w.forks)
						}
						if w.forks && (f.Fix == "" || f.FixSource == "") {
							t.Errorf("%s:%d: a finding that forks has no fix", w.file, w.line)
						}
						if f.Text == "" {
							t.Errorf("%s:%d: no text", w.file, w.line)
						}
					}
				}
				if !found {
					t.Errorf("no %s finding at %s:%d in %+v", w.tool, w.file, w.line, res.Findings)
				}
			}
		})
	}
}
