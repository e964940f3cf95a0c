package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestReportOwnsItsStrings: ReadFile parses from a pooled buffer that the
// next read overwrites, and the history database encodes reports later, on
// its own goroutine. So no string in a Report may point into the data it
// was parsed from. Overwriting the data after Parse must change nothing.
// (It once did: objc_class in the history showed bytes of the next report.)
func TestReportOwnsItsStrings(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	if len(paths) == 0 {
		t.Fatal("no corpus")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
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
			t.Errorf("%s: the report changed when its data was overwritten:\nbefore %s\nafter  %s", filepath.Base(p), before, after)
		}
	}
}
