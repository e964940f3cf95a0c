package report

import (
	"os"
	"path/filepath"
	"testing"
)

// skipValueWalk is skipValue as it was first written, a byte at a time:
// the reference TestSkipValueAgrees and FuzzSkipValueAgrees hold the
// faster one to.
func skipValueWalk(b []byte, i int) (int, bool) {
	depth, inStr := 0, false
	for j := i; j < len(b); j++ {
		c := b[j]
		if inStr {
			switch c {
			case '\\':
				j++
			case '"':
				inStr = false
				if depth == 0 {
					return j + 1, true
				}
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j, j > i
			}
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case ',':
			if depth == 0 {
				return j, j > i
			}
		}
	}
	return 0, false
}

// TestSkipValueAgrees: skipValue gives the walk's answer for escapes, and
// from thousands of positions in every sample report (each 97th byte, each
// 7th opening bracket, each 23rd quote), whole and cut short.
func TestSkipValueAgrees(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	cases := []string{`"a\"b"`, `"a\\"b`, `"a\\\"b"x`, `["\\\\",1]`, `{"k":"}"}`, `[1,[2,{"x":"]"}],3]`, `"\`, `"abc\\`, `[`, `1,2`, `"`, `{"a":[{"b":"\"}"}]},`}
	for _, c := range cases {
		for i := range c {
			checkSkip(t, []byte(c), i)
		}
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range data {
			if i%97 == 0 || (c == '{' || c == '[') && i%7 == 0 || c == '"' && i%23 == 0 {
				checkSkip(t, data, i)
			}
		}
		for _, cut := range []int{len(data) / 3, len(data) / 2, len(data) - 7} {
			if cut > 0 {
				for i := 0; i < cut; i += 211 {
					checkSkip(t, data[:cut], i)
				}
			}
		}
	}
}

func checkSkip(t *testing.T, b []byte, i int) {
	t.Helper()
	e1, ok1 := skipValue(b, i)
	e2, ok2 := skipValueWalk(b, i)
	if e1 != e2 || ok1 != ok2 {
		t.Fatalf("skipValue(%.60q, %d) = %d, %v; the walk gives %d, %v", b[i:], i, e1, ok1, e2, ok2)
	}
}

// FuzzSkipValueAgrees: the same for any bytes.
func FuzzSkipValueAgrees(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c\"]"}]}`, `"x\\"`, `[1,2],3`, `"\\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := range b {
			checkSkip(t, b, i)
		}
	})
}
