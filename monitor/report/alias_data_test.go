package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestParseKeepsNoViewOfData: a Report holds no view into the bytes it was
// parsed from. The parsers read strings as views of the report's bytes
// (the text report's lines, the .ips's plain JSON strings) and Classify
// copies what it keeps; the sweep reads every report into one buffer per
// worker, and ReadFile's buffers go back to a pool, so a view kept past
// Parse would show the next report's bytes. Each real report, whole and
// cut short, is parsed from a copy, which is then overwritten: the
// Report's JSON must not change.
func TestParseKeepsNoViewOfData(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	if len(paths) == 0 {
		t.Fatal("no reports")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{len(data), len(data) * 2 / 3, len(data) / 3} {
			buf := append([]byte(nil), data[:cut]...)
			r, _ := Parse(buf)
			if r == nil {
				continue
			}
			before, _ := json.Marshal(r)
			copy(buf, bytes.Repeat([]byte{'#'}, len(buf)))
			if after, _ := json.Marshal(r); !bytes.Equal(before, after) {
				t.Errorf("%s cut at %d: the report changed when its bytes were overwritten:\nbefore %s\nafter  %s", filepath.Base(p), cut, before, after)
			}
		}
	}
}
