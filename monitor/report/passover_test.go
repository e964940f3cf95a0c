package report

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// refParseCrash is parseCrash without passingOver: every line trimmed and
// read by line.
func refParseCrash(data []byte, sc *scratch) (*facts, error) {
	p := sc.crashParser()
	text := unsafe.String(unsafe.SliceData(data), len(data))
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		p.line(strings.TrimSpace(line))
	}
	return p.finish()
}

// classified is the JSON of the Report Classify makes of f, and err.
func classified(f *facts, err error, sc *scratch) string {
	if f == nil {
		return "nil " + err.Error()
	}
	f.evidence, f.joined = sc.evidence[:0], sc.joined
	r := Classify(f)
	sc.joined = f.joined
	sc.evidence = r.Evidence[:0]
	js, _ := json.Marshal(r)
	e := ""
	if err != nil {
		e = err.Error()
	}
	return string(js) + " " + e
}

// TestPassOverAgreesWithLines: the text parser's pass over the lines of a
// thread that did not crash and of a non-Python report's images, each told
// by its first byte after spaces and tabs, gives what reading every line
// trimmed gives, on the real text reports with lines of other indentation
// (Unicode spaces, \v, \f, \r), section headers, blank lines, frames and
// images put in at line starts, and cut short.
func TestPassOverAgreesWithLines(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*.crash"))
	if len(paths) == 0 {
		t.Fatal("no reports")
	}
	rng := rand.New(rand.NewSource(1))
	inserts := []string{" ", "\t", "\r", "\v", "\f", "\u00a0", "\u0085", "\u2028", "0", "9", "0x", "x", "…", "...", "\n", "\n\n",
		"Thread 3:", "Thread 0 Crashed:", "Binary Images:", "Crashed Thread: 3", "Process: Python [1]", "  0x1 - 0x2 foo <u> /x/Python", "Full Report"}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 300; k++ {
			d := append([]byte(nil), data...)
			for range 1 + rng.Intn(8) {
				pos := rng.Intn(len(d) + 1) // moved back to a line start
				for pos > 0 && d[pos-1] != '\n' {
					pos--
				}
				ins := inserts[rng.Intn(len(inserts))]
				d = append(d[:pos], append([]byte(ins), d[pos:]...)...)
			}
			if rng.Intn(3) == 0 {
				d = d[:rng.Intn(len(d)+1)]
			}
			sc, ref := &scratch{evidence: make([]string, 0, 8)}, &scratch{evidence: make([]string, 0, 8)}
			f, _, err := parseCrashLines(d, sc, false)
			got := classified(f, err, sc)
			f, err = refParseCrash(d, ref)
			if want := classified(f, err, ref); got != want {
				t.Fatalf("%s, edit %d: passing over lines gives\n%s\nreading each gives\n%s", filepath.Base(p), k, got, want)
			}
		}
	}
}
