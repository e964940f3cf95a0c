package report

import (
	"regexp"
	"testing"
)

// TestTitlePrefixes: each title pattern's literal is what its matches
// start with, and the guarded match agrees with the regexp's on titles
// that start with it, differ from it in one byte, or stop inside it.
func TestTitlePrefixes(t *testing.T) {
	for _, tc := range []struct {
		t      titleRe
		prefix string
		titles []string
	}{
		{rePumaTitle, "puma", []string{"puma 6.4.0 (tcp://0.0.0.0:3000) [app]", "puma: cluster worker 0: 123 [app]", "puma (tcp://x)", "pumas 1 (x", "puma:", "pum"}},
		{reResqueTitle, "resque-", []string{"resque-2.6.0: Waiting for default", "resque-x: y", "resque-pool-master"}},
		{reUnicornTitle, "unicorn", []string{"unicorn master -c config/unicorn.rb", "unicorn_rails worker[2] -E production", "unicorn worker[x]", "unicorns master"}},
		{reSidekiqTitle, "sidekiq ", []string{"sidekiq 7.2.0 app [0 of 5 busy]", "sidekiq 7.2.0 [1 of 10 busy] stopping", "sidekiq x [0 of 5 busy]", "sidekiq"}},
		// Patterns without such a start: no literal, the regexp decides.
		{newTitleRe(`puma`), "", []string{"a puma", "puma"}},
		{newTitleRe(`^(?i)puma`), "", []string{"PUMA 1 (", "puma"}},
		{newTitleRe(`^a|^b`), "", []string{"a", "b", "c"}},
		{newTitleRe(`^ab|^ac|^a`), "a", []string{"ab", "ac", "a", "b"}},
		{newTitleRe(`^(ab|ac)d|^abc`), "a", []string{"abd", "acd", "abc", "ad"}},
		{newTitleRe(`^ab|b`), "", []string{"ab", "b", "cb"}},
	} {
		if tc.t.prefix != tc.prefix {
			t.Errorf("%s: prefix %q, want %q", tc.t.re, tc.t.prefix, tc.prefix)
		}
		re := regexp.MustCompile(tc.t.re.String())
		var titles []string
		for _, s := range tc.titles {
			titles = append(titles, s, "x"+s, " "+s)
			for i := range len(s) {
				titles = append(titles, s[:i], s[:i]+"X"+s[i+1:])
			}
		}
		for _, s := range titles {
			if got, want := tc.t.MatchString(s), re.MatchString(s); got != want {
				t.Errorf("%s on %q: %v, the regexp says %v", tc.t.re, s, got, want)
			}
		}
	}
}
