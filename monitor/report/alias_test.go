package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestReportOwnsItsStrings: ReadFile parses from a pooled buffer that the
// next read overwrites, the sweep reads every report into one buffer per
// worker, and the history database encodes reports later, on its own
// goroutine. So no string in a Report may point into the data it was
// parsed from, though both parsers read the data's strings as views (the
// text parser's lines, the .ips parser's plain JSON strings) and Classify
// copies what it keeps. Overwriting the data after Parse must change
// nothing, for every real report whole and cut short. (It once did:
// objc_class in the history showed bytes of the next report.) checkParse
// holds the fuzz targets' inputs to the same.
func TestReportOwnsItsStrings(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	if len(paths) == 0 {
		t.Fatal("no corpus")
	}
	for _, p := range paths {
		whole, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{len(whole), len(whole) * 2 / 3, len(whole) / 3} {
			data := append([]byte(nil), whole[:cut]...)
			r, _ := Parse(data)
			if r == nil {
				continue
			}
			before, _ := json.Marshal(r)
			for i := range data {
				data[i] = 'X'
			}
			after, _ := json.Marshal(r)
			if string(before) != string(after) {
				t.Errorf("%s cut at %d: the report changed when its data was overwritten:\nbefore %s\nafter  %s", filepath.Base(p), cut, before, after)
			}
		}
	}
}
