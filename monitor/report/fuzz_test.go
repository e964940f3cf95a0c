package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedReports adds every real report of one format to the corpus, whole and
// cut in half (a file still being written).
func seedReports(f *testing.F, ext string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"+ext))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
}

// checkParse is what must hold for any input: no panic, a clear error kind,
// and report text that is safe to show.
func checkParse(t *testing.T, data []byte) {
	// Parsed from a copy that is then overwritten: the Report must hold no
	// view into the bytes it was parsed from (TestReportOwnsItsStrings).
	buf := append([]byte(nil), data...)
	r, err := Parse(buf)
	if r != nil {
		before, _ := json.Marshal(r)
		for i := range buf {
			buf[i] = '#'
		}
		if after, _ := json.Marshal(r); !bytes.Equal(before, after) {
			t.Fatalf("the report changed when its bytes were overwritten:\nbefore %s\nafter  %s", before, after)
		}
	}
	if err != nil && !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrNotCrashReport) &&
		!errors.Is(err, ErrOtherDiagnostic) && !errors.Is(err, ErrTooLarge) {
		t.Fatalf("unclassified error: %v", err)
	}
	if r == nil {
		if err == nil {
			t.Fatal("nil report without error")
		}
		return
	}
	for _, s := range []string{r.Process, r.ParentProcess, r.ExePath, r.ObjCClass, r.Advice, r.OSVersion, r.Exception, r.Signal} {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r\x00\x1b") {
			t.Fatalf("unsafe text in report: %q", s)
		}
	}
	if len(r.Process) > 4*129 {
		t.Fatalf("process name not bounded: %d bytes", len(r.Process))
	}
	if r.ObjCForkSafety && !r.ForkChild {
		t.Fatal("fork-safety kill that is not a fork child")
	}
	if r.Cause == "" || r.ID == "" {
		t.Fatalf("cause %q id %q", r.Cause, r.ID)
	}
}

func FuzzParseIPS(f *testing.F) {
	seedReports(f, ".ips")
	f.Add([]byte(`{"bug_type":"309"}` + "\n" + `{"procName":"Python","asi":{"x":["crashed on child side of fork pre-exec"]},"termination":{"namespace":"OBJC","code":1}}`))
	f.Add([]byte(`{"bug_type":"309"}` + "\n" + strings.Repeat("[", 20000)))
	f.Fuzz(checkParse)
}

func FuzzParseCrash(f *testing.F) {
	seedReports(f, ".crash")
	f.Add([]byte("Process: Python [1]\nApplication Specific Information:\nobjc[1]: +[NSString initialize] may have been in progress in another thread when fork() was called.\n"))
	f.Fuzz(checkParse)
}
