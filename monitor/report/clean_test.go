package report

import "testing"

// TestCleanInert: what Clean returns has no byte a terminal, a menu or a
// notification would act on: no escape sequence introducer (ESC, CSI), no
// newline, no bidirectional control, no invalid UTF-8.
func TestCleanInert(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                           "plain",
		"red\x1b[31mtext\x1b[0m":          "red [31mtext [0m",
		"csi\u009b31m":                    "csi 31m",
		"two\nlines\r":                    "two lines",
		"abc\u202edcba":                   "abc dcba",
		"iso\u2067late\u2069":             "iso late",
		"mark\u200f\u200e\u061c":          "mark",
		"osc\x1b]8;;https://evil\x07link": "osc ]8;;https://evil link",
		"bad\xffutf8":                     "bad utf8",
	} {
		if got := Clean(in, 100); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Clean("aaaaaaaaaa", 4); got != "aaaa…" {
		t.Errorf("bound: %q", got)
	}
}
