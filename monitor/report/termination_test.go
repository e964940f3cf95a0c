package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerminationParts reads the termination reason by its parts in every
// layout found in real reports (the sources are in termination.go).
func TestTerminationParts(t *testing.T) {
	cases := []struct {
		val, ns, code string
		objc          bool
	}{
		{"Namespace OBJC, Code 0x1", "OBJC", "0x1", true},
		{"Namespace OBJC, Code 1 ", "OBJC", "1", true},
		{"Namespace OBJC, Code 1, ", "OBJC", "1", true},
		{"Namespace OBJC, Code 1,", "OBJC", "1", true},
		{" Namespace OBJC, Code 1, Indicator X, ", "OBJC", "1", true},
		{"Namespace SIGNAL, Code 11 Segmentation fault: 11", "SIGNAL", "11", false},
		{"Namespace SIGNAL, Code 0xb", "SIGNAL", "0xb", false},
		{"Namespace DYLD, Code 1 Library missing", "DYLD", "1", false},
		{"Namespace OBJC, Code 2, ", "OBJC", "2", false},
		{"Namespace OBJC", "OBJC", "", false},
		{"Code 1", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range cases {
		ns, code := terminationParts(tc.val)
		if ns != tc.ns || code != tc.code || isObjCTermination(ns, code) != tc.objc {
			t.Errorf("terminationParts(%q) = %q, %q (objc %v); want %q, %q (objc %v)", tc.val, ns, code, isObjCTermination(ns, code), tc.ns, tc.code, tc.objc)
		}
	}
}

// TestForkChildVerdict: "not the Objective-C check" only when the
// termination reason is there and names something else; a fork child
// without one gets "not enough to tell", and its advice never says that
// the variable will not help.
func TestForkChildVerdict(t *testing.T) {
	cases := []struct {
		file    string
		cause   string
		ruled   bool
		advice  string // substring
		against string // must not appear
	}{
		// macOS 26, "Code 1, ": the Objective-C check, not "something else".
		{"veracrypt-objc-fork-macos26-macfuse-1179.crash", CauseForkSafety, false, "fork-safety check killed the child", "will not help"},
		{"veracrypt-objc-fork-pasted-macos26-veracrypt-1785.crash", CauseForkSafety, false, "fork-safety check killed the child", "will not help"},
		// SIGBUS in a fork child, termination SIGNAL: ruled out.
		{"monerod-sigbus-fork-child-monero-gui-4380.ips", CauseForkChild, true, "not by the Objective-C check", ""},
		// A fork child's .ips excerpt without a termination member.
		{"python311-fork-child-virt-manager-196.ips", CauseForkChild, false, "not enough to tell whether the Objective-C fork-safety check", "will not help"},
		// An old excerpt (OS X 10.10) without a termination reason.
		{"python27-sigsegv-fork-child-ka-lite-2844.crash", CauseForkChild, false, "not enough to tell", "will not help"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r, _ := ReadFile(filepath.Join("testdata", "reports", tc.file))
			if r == nil {
				t.Fatal("no report")
			}
			if r.Cause != tc.cause || r.ObjCRuledOut() != tc.ruled {
				t.Fatalf("cause %s, ruled out %v; want %s, %v (evidence %q)", r.Cause, r.ObjCRuledOut(), tc.cause, tc.ruled, r.Evidence)
			}
			if !strings.Contains(r.Advice, tc.advice) || tc.against != "" && strings.Contains(r.Advice, tc.against) {
				t.Errorf("advice %q: want %q and not %q", r.Advice, tc.advice, tc.against)
			}
		})
	}
}

// TestCoreFoundationForkLines: a report whose only sign of fork() is
// CoreFoundation's child-side line is a fork child; the rest of the report
// decides the cause. The report is the real macOS 15.0 abort of the Fork
// git client (fork-dev/Tracker#2205) with its "abort() called" replaced by
// each of CoreFoundation's lines (CFRuntime.c, __CFAtForkChild).
func TestCoreFoundationForkLines(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "reports", "fork-git-client-sigabrt-macos15-fork-tracker-2205.crash"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{markerSingleThread, markerMultiThread} {
		s := strings.Replace(string(data), "abort() called", line, 1)
		if s == string(data) {
			t.Fatal("the report changed: update the test")
		}
		r, _ := Parse([]byte(s))
		if r == nil {
			t.Fatal("no report")
		}
		if !r.ForkChild || r.Cause != CauseForkChild || r.ObjCForkSafety {
			t.Errorf("%s: fork child %v, cause %s, objc %v; want a fork child, cause fork-child", line, r.ForkChild, r.Cause, r.ObjCForkSafety)
		}
		if r.ObjCRuledOut() {
			t.Errorf("%s: no termination reason, yet the Objective-C check is ruled out", line)
		}
		r0, _ := Parse(data)
		if r0.ForkChild {
			t.Error("the unchanged report is a fork child: the test proves nothing")
		}
	}
}

// TestFullReportPaste: a paste from the crash dialog that starts partway
// through the readable report (here at the real macfuse#1179 report's
// "Exception Type") and ends with Console's "Full Report" section holding
// the .ips (the real monero-gui#4380 report) is read from the JSON; and
// without the marker it is not a crash report it can read JSON from.
func TestFullReportPaste(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "reports", "veracrypt-objc-fork-macos26-macfuse-1179.crash"))
	if err != nil {
		t.Fatal(err)
	}
	ips, err := os.ReadFile(filepath.Join("testdata", "reports", "monerod-sigbus-fork-child-monero-gui-4380.ips"))
	if err != nil {
		t.Fatal(err)
	}
	_, tail, ok := strings.Cut(string(text), "Exception Codes:")
	if !ok {
		t.Fatal("the report changed: update the test")
	}
	tail = tail[strings.IndexByte(tail, '\n')+1:] // from the line after, partway through
	for _, paste := range []string{
		tail + "\n-----------\nFull Report\n-----------\n\n" + string(ips),
		"Backtrace not available\n\n-----------\nFull Report\n-----------\n" + string(ips),
		string(ips[:0]) + "  Full Report  \n" + string(ips),
	} {
		r, err := Parse([]byte(paste))
		if r == nil {
			t.Fatalf("Parse: %v", err)
		}
		if r.Format != FormatIPS || r.Process != "monerod" || r.PID != 7264 || !r.ForkChild || r.Cause != CauseForkChild || !r.ObjCRuledOut() {
			t.Errorf("format %s process %q pid %d fork child %v cause %s ruled out %v; want the .ips read", r.Format, r.Process, r.PID, r.ForkChild, r.Cause, r.ObjCRuledOut())
		}
	}
	// The readable part alone, from partway through: nothing to read.
	if _, err := Parse([]byte("Backtrace not available\n\nNo thread state (register information) available\n")); err == nil {
		t.Error("a paste without report fields was read as a report")
	}
	// A marker followed by no JSON: the readable part is what there is.
	r, _ := Parse([]byte(string(text) + "\n-----------\nFull Report\n-----------\nsee attachment\n"))
	if r == nil || r.Process != "VeraCrypt" || r.Cause != CauseForkSafety {
		t.Errorf("a marker without JSON: %+v", r)
	}
}

func TestVersionRules(t *testing.T) {
	ruby := []struct {
		v            string
		lacks, known bool
	}{
		{"2.6.5", true, true}, {"2.7.6", true, true}, {"2.7.7", false, true}, {"2.7.8", false, true},
		{"3.0.4", true, true}, {"3.0.5", false, true}, {"3.0.7", false, true},
		{"3.1.2", true, true}, {"3.1.3", false, true}, {"3.1", false, false},
		{"3.2.0", false, true}, {"3.3", false, true}, {"", false, false},
	}
	for _, tc := range ruby {
		if l, k := RubyLacksForkFix(tc.v); l != tc.lacks || k != tc.known {
			t.Errorf("RubyLacksForkFix(%q) = %v, %v; want %v, %v", tc.v, l, k, tc.lacks, tc.known)
		}
	}
	billiard := []struct {
		v             string
		spawns, known bool
	}{
		{"4.2.4", false, true}, {"4.3.0rc1", true, true}, {"4.3.0rc2", true, true}, {"4.3.0", true, true},
		{"4.3.1", true, true}, {"5.0.0", true, true}, {"x", false, false},
	}
	for _, tc := range billiard {
		if s, k := BilliardSpawns(tc.v); s != tc.spawns || k != tc.known {
			t.Errorf("BilliardSpawns(%q) = %v, %v; want %v, %v", tc.v, s, k, tc.spawns, tc.known)
		}
	}
	if h, _ := RQHasSpawnWorker("2.1.0"); h {
		t.Error("rq 2.1.0 has no SpawnWorker")
	}
	if h, _ := RQHasSpawnWorker("2.2.0"); !h {
		t.Error("rq 2.2.0 has SpawnWorker")
	}
	if s, _ := GunicornSetsTitle("25.0.0"); s {
		t.Error("gunicorn 25 sets no title on macOS")
	}
	if s, _ := GunicornSetsTitle("23.0.0"); !s {
		t.Error("gunicorn 23 sets its title")
	}
	if h, _ := SolidQueueHasAsync("1.2.1"); h {
		t.Error("solid_queue 1.2.1 has no async mode")
	}
	if !IsMacOS150("macOS 15.0 (24A335)") || IsMacOS150("macOS 15.1 (24B83)") || IsMacOS150("macOS 26.0") {
		t.Error("IsMacOS150")
	}
}

// TestRubyMacOS150Note: a Ruby fork death reported on macOS 15.0 adds that
// macOS 15.1 is needed (ruby/ruby#11849); the real solid_queue#357 report
// is from macOS 15.0 (24A335). Not on other versions, not for Python.
func TestRubyMacOS150Note(t *testing.T) {
	r, _ := ReadFile(filepath.Join("testdata", "reports", "ruby33-solid-queue-objc-fork-solid-queue-357.crash"))
	if r == nil || r.Runtime != RuntimeRuby || !IsMacOS150(r.OSVersion) {
		t.Fatalf("the solid_queue#357 report changed: %+v", r)
	}
	r.Framework = "solid_queue"
	ApplyFix(r)
	if !strings.Contains(r.Fix, "ruby/ruby#11849") || !strings.Contains(r.Fix, "--mode async") {
		t.Errorf("fix %q: want Solid Queue's fix and the macOS 15.0 note", r.Fix)
	}
	r.OSVersion = "macOS 15.1 (24B83)"
	r.Fix, r.Advice = "", ""
	ApplyFix(r)
	if strings.Contains(r.Fix, "11849") {
		t.Errorf("macOS 15.1 got the 15.0 note: %q", r.Fix)
	}
	// No tool named: the note alone, with its source.
	r.OSVersion, r.Framework, r.Fix, r.Advice = "macOS 15.0 (24A335)", "", "", ""
	ApplyFix(r)
	if !strings.Contains(r.Fix, "macOS 15.1") || r.FixSource != rubyMacOS150Source {
		t.Errorf("no tool on macOS 15.0: fix %q from %q", r.Fix, r.FixSource)
	}
}
