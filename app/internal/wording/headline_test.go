package wording

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestHeadlineForkChild: a fork child is "not the Objective-C check" only
// when its termination reason is there and names something else; a report
// without one gets "not enough to tell" (issue 29), and the check's own
// termination reason gets the check. Real reports from the corpus.
func TestHeadlineForkChild(t *testing.T) {
	cases := []struct {
		file string
		want string
		not  string
	}{
		{"monerod-sigbus-fork-child-monero-gui-4380.ips", "(not the Objective-C check)", "not enough to tell"},
		{"python27-sigsegv-fork-child-ka-lite-2844.crash", "not enough to tell whether the Objective-C check killed it", "(not the Objective-C check)"},
		{"veracrypt-objc-fork-macos26-macfuse-1179.crash", "by the Objective-C fork-safety check", "not enough to tell"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r, err := report.ReadFile(filepath.Join("..", "..", "..", "monitor", "report", "testdata", "reports", tc.file))
			// Excerpts from trackers read as partial: the Report is
			// still there, with what the excerpt shows.
			if err != nil && (r == nil || !errors.Is(err, report.ErrIncomplete)) {
				t.Fatal(err)
			}
			got := Headline(r)
			if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
				t.Errorf("Headline = %q, want it to say %q and not %q", got, tc.want, tc.not)
			}
		})
	}
}
