package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// TestNeedleMemoAgrees: the search that keeps the answer for the folder
// the images share answers each path as the search of that path alone,
// for the images of every sample report in order, and for paths built to
// put a needle across the folder's last slash or just before it.
func TestNeedleMemoAgrees(t *testing.T) {
	var lists [][]string
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*.ips"))
	re := regexp.MustCompile(`"path" ?: ?("(?:[^"\\]|\\.)*")`)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var l []string
		for _, m := range re.FindAllSubmatch(data, -1) {
			l = append(l, string(m[1]))
		}
		lists = append(lists, l)
	}
	var built []string
	for _, n := range imageNeedlesJSON {
		for cut := 0; cut <= len(n); cut++ {
			// The needle with a slash put at each place in it, after a
			// folder that holds none.
			p := `"\/a\/b` + string(n[:cut]) + `\/` + string(n[cut:]) + `x"`
			built = append(built, `"\/a\/b\/c.so"`, p, `"\/a\/b\/`+string(n)+`"`, `"\/a\/b\/`+string(n[:len(n)-1])+`"`)
		}
	}
	lists = append(lists, built)
	for _, l := range lists {
		var m needleMemo
		for _, p := range l {
			if got, want := m.has([]byte(p)), hasImageNeedleJSON([]byte(p)); got != want {
				t.Fatalf("needleMemo.has(%s) = %v, alone %v", p, got, want)
			}
		}
	}
}

// TestParseScratchNoCarryOver: a parse's pooled scratch carries nothing
// into the next. Every real report parses to the same JSON alone, after
// each of the others, and from several goroutines at once.
func TestParseScratchNoCarryOver(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	var data [][]byte
	alone := map[int]string{}
	for i, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, d, d[:len(d)/2])
		_ = i
	}
	// A Python crash in an image named by nothing but the crashed thread
	// (no needle in its path): only the parser's list of the crashed
	// thread's images keeps its path, so one left over from an earlier
	// report shows.
	data = append(data, []byte(`Process:               Python [4242]
Path:                  /usr/local/bin/python3.12
Parent Process:        zsh [4000]
Date/Time:             2024-05-01 10:00:00.000 +0200
Crashed Thread:        0

Exception Type:        EXC_BAD_ACCESS (SIGSEGV)

Thread 0 Crashed:
0   libshop.dylib                 0x0000000104d80000 shop_crunch + 12
1   libpython3.12.dylib           0x0000000105000000 _PyEval_EvalFrameDefault + 100

Binary Images:
0x104d80000 - 0x104d83fff libshop.dylib (*) <11111111-2222-3333-4444-555555555555> /Users/x/shop/build/libshop.dylib
0x105000000 - 0x105300000 libpython3.12.dylib (*) <11111111-2222-3333-4444-666666666666> /usr/local/lib/libpython3.12.dylib
`))
	type parsed struct {
		r   *Report
		err error
	}
	show := func(p parsed) string {
		js, _ := json.Marshal(p.r)
		return fmt.Sprintf("%s %v", js, p.err)
	}
	parse := func(d []byte) parsed {
		r, err := Parse(d)
		return parsed{r, err}
	}
	for i, d := range data {
		scratchPool = sync.Pool{New: func() any { return new(scratch) }} // a fresh scratch
		alone[i] = show(parse(d))
	}
	var wg sync.WaitGroup
	type keptReport struct {
		i int
		p parsed
	}
	kept := make([][]keptReport, 4) // each goroutine's reports, shown again at the end
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range data {
				for i, d := range data {
					if (i+k+g)%3 != 0 {
						continue
					}
					p := parse(d)
					if got := show(p); got != alone[i] {
						t.Errorf("report %d parsed after others: %s\nalone: %s", i, got, alone[i])
						return
					}
					if k == 0 {
						kept[g] = append(kept[g], keptReport{i, p})
					}
				}
			}
		}()
	}
	wg.Wait()
	// A Report that kept a slice of the scratch (its evidence, say) shows
	// what later parses put there.
	for g := range kept {
		for _, k := range kept[g] {
			if got := show(k.p); got != alone[k.i] {
				t.Errorf("report %d changed after later parses: %s\nalone: %s", k.i, got, alone[k.i])
			}
		}
	}
}

// reException is the pattern exceptionParts reads without a regexp.
var reException = regexp.MustCompile(`^(\S+)(?:\s+\((\w+)\))?`)

// TestExceptionPartsAgreesWithPattern: exceptionParts gives what the
// pattern gives, on the real values and at its edges.
func TestExceptionPartsAgreesWithPattern(t *testing.T) {
	vals := []string{"EXC_CRASH (SIGABRT)", "SIGSEGV", "EXC_BAD_ACCESS (SIGSEGV)", "EXC_BAD_ACCESS  (SIGBUS) extra",
		"EXC_CRASH (SIG ABRT)", "EXC_CRASH ()", "EXC_CRASH (SIGABRT", "EXC_CRASH\t(SIGABRT)", "EXC_CRASH\v(SIGABRT)",
		"EXC_CRASH(SIGABRT)", " EXC_CRASH", "", "é (ü)", "EXC_CRASH (\xff)", "\xffX (Y)", "A\f(B)", "A (B_9)", "A (B-9)",
		"EXC_CRASH (SIGABRT) Exception Codes: 0x0"}
	for _, v := range vals {
		first, sig, ok := exceptionParts(v)
		m := reException.FindStringSubmatch(v)
		if ok != (m != nil) || ok && (first != m[1] || sig != m[2]) {
			t.Errorf("exceptionParts(%q) = %q, %q, %v; pattern %q", v, first, sig, ok, m)
		}
	}
}

// TestPeekParentAgreesWithParse: on every real report, whole and cut
// short, PeekParent names the parent pid Parse gives, or none.
func TestPeekParentAgreesWithParse(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	named := 0
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{len(d), len(d) / 2, len(d) / 8} {
			got := PeekParent(d[:min(cut, PeekSize)])
			if got == 0 {
				continue
			}
			r, _ := Parse(d[:cut])
			if r == nil || r.ParentPID != got {
				t.Errorf("%s cut at %d: PeekParent %d, Parse %+v", p, cut, got, r)
			}
			named++
		}
	}
	if named < 20 {
		t.Errorf("PeekParent named a parent in only %d reports", named)
	}
}

// TestUnescapeSlashes: one allocation, the same string as ReplaceAll, and
// ok exactly when no backslash is left.
func TestUnescapeSlashes(t *testing.T) {
	for _, s := range []string{``, `abc`, `\/usr\/lib`, `\\/`, `\`, `a\`, `\/\/`, `a\/b\/c`, `\"`, `\\`, `x\/`} {
		want := strings.ReplaceAll(s, `\/`, "/")
		got, ok := unescapeSlashes([]byte(s))
		if ok != !strings.Contains(want, `\`) || ok && got != want {
			t.Errorf("unescapeSlashes(%q) = %q, %v; ReplaceAll: %q", s, got, ok, want)
		}
	}
}
