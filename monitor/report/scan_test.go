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
