package doctor

import (
	"testing"
	"time"
)

// ps output and codesign output come from other programs: whatever they
// print, parsing must not panic, and parsed apps keep a known name.
func FuzzParsePS(f *testing.F) {
	f.Add("  101 Thu Nov 26 08:10:26 2026 /System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal\n")
	f.Add("  7 Thu Nov  6 08:10:26 2026 /Applications/PyCharm CE.app/Contents/MacOS/pycharm\n  8 x\n")
	f.Add("\x00\n  1 Mon Jan 2 15:04:05 2006 tmux")
	f.Fuzz(func(t *testing.T, out string) {
		for _, a := range parsePS(out, time.UTC) {
			if a.Name == "" || appName(a.Command) != a.Name {
				t.Errorf("app %+v", a)
			}
		}
	})
}

func FuzzParseCodesign(f *testing.F) {
	f.Add("", "CodeDirectory v=20500 size=1 flags=0x10000(runtime) hashes=1+1\nAuthority=Developer ID Application: X\n")
	f.Add("<key>com.apple.security.get-task-allow</key><true/>", "Signature=adhoc\n")
	f.Add("", "code object is not signed at all")
	f.Fuzz(func(t *testing.T, stdout, stderr string) {
		h, g, _ := parseCodesign(stdout, stderr, nil)
		for _, v := range []string{h, g} {
			if v != Yes && v != No && v != Unknown {
				t.Errorf("value %q", v)
			}
		}
	})
}
