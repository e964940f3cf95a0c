package report

import (
	"strings"
	"testing"
)

// TestIndexFullReport: the search anchored on "R" finds what bytes.Index
// finds, at the edges too.
func TestIndexFullReport(t *testing.T) {
	for _, s := range []string{"", "R", "Full Report", "xFull Report", "Full Repor", "ull Report", "Full RFull Report",
		"RRRRRFull Report\n", "Full  Report Full Report", "Report", "Full Report at the start, Full Report again"} {
		if got, want := indexFullReport([]byte(s)), strings.Index(s, "Full Report"); got != want {
			t.Errorf("indexFullReport(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestWholeString: the quick test agrees with skipValue.
func TestWholeString(t *testing.T) {
	for _, s := range []string{`""`, `"a"`, `"\/usr\/lib"`, `"a\"b"`, `"a\\"`, `"a\\"b"`, `"a"b"`, `"a`, `a"`, `"`, ``,
		`"a\\\"b"`, `"\\\\"`, `"x",`} {
		e, ok := skipValue([]byte(s), 0)
		want := len(s) > 0 && s[0] == '"' && ok && e == len(s)
		if got := wholeString([]byte(s)); got != want {
			t.Errorf("wholeString(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestHasImageNeedleJSON: the one-pass search finds what a bytes.Contains
// of each needle finds.
func TestHasImageNeedleJSON(t *testing.T) {
	for _, p := range []string{`"\/usr\/local\/bin\/Python"`, `"\/opt\/x\/site-packages\/a.so"`, `"\/a\/libpython3.12.dylib"`,
		`"\/usr\/local\/Cellar\/ansible\/9\/x"`, `"/usr/local/Cellar/celery/5/x"`, `"\/Applications\/Foo.app\/Foo"`,
		`"venvs"`, `"uwsg"`, `"_multiprocessin"`, `"\/x\/Python\/y"`, `"s"`, `""`} {
		want := false
		for _, n := range append([][]byte{[]byte(`/Python"`)}, imageNeedlesJSON...) {
			want = want || strings.Contains(p, string(n))
		}
		if got := hasImageNeedleJSON([]byte(p)); got != want {
			t.Errorf("hasImageNeedleJSON(%s) = %v, want %v", p, got, want)
		}
	}
}
