package report

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Report excerpts from public trackers, as published (header lines, the
// application specific information and the first frames of the crashed
// thread; the rest of each report is left out). The issue-19 corpus in
// testdata/ holds whole reports; these test the runtime decision alone.
const (
	// rails/solid_queue#357 (comment by jmadkins, 2024-09-21): a Ruby 3.3
	// worker forked by solid_queue, killed by the Objective-C check; the
	// executable's path is redacted, the crashed thread runs in libruby.
	excerptSolidQueue = `Process:               ruby [95102]
Path:                  /Users/USER/*/ruby
Identifier:            ruby
Version:               ???
Code Type:             ARM-64 (Native)
Parent Process:        ruby [91642]
Responsible:           Terminal [1365]
User ID:               501

Date/Time:             2024-09-21 15:07:49.9095 -0400
OS Version:            macOS 15.0 (24A335)
Report Version:        12

Crashed Thread:        5  worker-1

Exception Type:        EXC_CRASH (SIGABRT)
Exception Codes:       0x0000000000000000, 0x0000000000000000

Termination Reason:    Namespace OBJC, Code 1 

Application Specific Information:
crashed on child side of fork pre-exec


Thread 5 Crashed:: worker-1
0   libsystem_kernel.dylib        	       0x18288ce9c __select + 8
1   libruby.3.3.dylib             	       0x1055b5bbc do_select + 524
`
	// SamSaffron/memory_profiler#83 (comment by pjmartorell, 2020-01-28):
	// a Ruby 2.6 fork child, SIGABRT after a bad access, not the objc check.
	excerptMemoryProfiler = `Process:               ruby [1023]
Path:                  /Users/USER/*/ruby
Identifier:            ruby
Version:               0
Code Type:             X86-64 (Native)
Parent Process:        ruby [25605]
Responsible:           Terminal [19719]
User ID:               501

Date/Time:             2020-01-28 15:44:29.331 +0100
OS Version:            Mac OS X 10.15.2 (19C57)
Report Version:        12

Crashed Thread:        0  Dispatch queue: com.apple.main-thread

Exception Type:        EXC_BAD_ACCESS (SIGABRT)
Exception Codes:       KERN_INVALID_ADDRESS at 0x000000011169f000
Exception Note:        EXC_CORPSE_NOTIFY

Application Specific Information:
crashed on child side of fork pre-exec
`
	// Homebrew/homebrew-core#48575 (comment by bayandin, 2020-01-06): a
	// Homebrew perl 5.30.1 running pt-online-schema-change, SIGSEGV; no
	// fork involved.
	excerptPerconaPerl = `Process:               perl [57241]
Path:                  /usr/local/Cellar/perl/5.30.1/bin/perl
Identifier:            perl
Version:               0
Code Type:             X86-64 (Native)
Parent Process:        bash [45442]
Responsible:           Terminal [26163]
User ID:               501

Date/Time:             2020-01-06 11:29:14.405 +0000
OS Version:            Mac OS X 10.15.2 (19C57)
Report Version:        12

Crashed Thread:        0  Dispatch queue: com.apple.main-thread

Exception Type:        EXC_BAD_ACCESS (SIGSEGV)
Exception Codes:       KERN_INVALID_ADDRESS at 0x0000000000000005
Exception Note:        EXC_CORPSE_NOTIFY

Termination Signal:    Segmentation fault: 11
Termination Reason:    Namespace SIGNAL, Code 0xb
Terminating Process:   exc handler [57241]
`
)

// withoutHeader is an excerpt pasted from "Application Specific
// Information" on, as bug reports often are: only the frames can tell.
func withoutHeader(s string) string {
	return s[strings.Index(s, "Application Specific Information:"):]
}

func TestRuntime(t *testing.T) {
	tests := []struct {
		name        string
		data        string
		file        string // a report in testdata/reports instead
		runtime     string
		cause       string
		notable     bool
		evidence    string
		adviceNotPy bool // the advice must not give Python's remedies
	}{
		{name: "solid_queue#357 ruby objc", data: excerptSolidQueue, runtime: RuntimeRuby, cause: CauseForkSafety, notable: true, evidence: `runtime from the executable "/Users/USER/*/ruby"`, adviceNotPy: true},
		{name: "solid_queue#357 frames only", data: withoutHeader(excerptSolidQueue), runtime: RuntimeRuby, cause: CauseForkChild, notable: true, evidence: `crashed thread's image "libruby.3.3.dylib"`, adviceNotPy: true},
		{name: "memory_profiler#83 ruby fork child", data: excerptMemoryProfiler, runtime: RuntimeRuby, cause: CauseForkChild, notable: true, adviceNotPy: true},
		{name: "homebrew-core#48575 perl segv", data: excerptPerconaPerl, runtime: RuntimePerl, cause: CauseCrash, notable: false, evidence: "/usr/local/Cellar/perl/5.30.1/bin/perl"},
		{name: "sentry-cli objc", file: "sentry-cli-objc-fork-sentry-23823.crash", runtime: RuntimeOther, cause: CauseForkSafety, notable: true, adviceNotPy: true},
		{name: "monerod fork child", file: "monerod-sigbus-fork-child-monero-gui-4380.ips", runtime: RuntimeOther, cause: CauseForkChild, notable: true, adviceNotPy: true},
		{name: "virtualbox libdispatch", file: "virtualbox-libdispatch-fork-child-vagrant-notes.crash", runtime: RuntimeOther, cause: CauseForkChild, notable: true, adviceNotPy: true},
		{name: "python objc", file: "python37-objc-fork-fontbakery-2982.crash", runtime: RuntimePython, cause: CauseForkSafety, notable: true},
		{name: "python frames only", file: "python312-fragment-airflow-setproctitle-airflow-45124.crash", runtime: RuntimePython, cause: CauseForkChild, notable: true},
		{name: "python plain crash", file: "python313-duckdb-segv-chunkhound.ips", runtime: RuntimePython, cause: CauseCrash, notable: true},
		{name: "app segv", file: "yetanothermac-segv.crash", runtime: RuntimeOther, cause: CauseCrash, notable: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *Report
			var err error
			if tt.file != "" {
				r, err = ReadFile(filepath.Join("testdata", "reports", tt.file))
			} else {
				r, err = Parse([]byte(tt.data))
			}
			if err != nil && !errors.Is(err, ErrIncomplete) {
				t.Fatal(err)
			}
			if r == nil {
				t.Fatal("no report")
			}
			if r.Runtime != tt.runtime || r.Cause != tt.cause {
				t.Errorf("runtime %q cause %q, want %q %q (evidence %q)", r.Runtime, r.Cause, tt.runtime, tt.cause, r.Evidence)
			}
			if got := Notable(r); got != tt.notable {
				t.Errorf("Notable = %v, want %v", got, tt.notable)
			}
			if tt.evidence != "" && !containsEvidence(r.Evidence, tt.evidence) {
				t.Errorf("evidence %q lacks %q", r.Evidence, tt.evidence)
			}
			if tt.adviceNotPy {
				for _, py := range []string{"multiprocessing", "Python", "no_proxy", "set_start_method"} {
					if strings.Contains(r.Advice, py) {
						t.Errorf("advice for a %s fork death speaks Python (%q): %s", r.Runtime, py, r.Advice)
					}
				}
				if r.Advice == "" || !strings.Contains(r.Advice, "exec") {
					t.Errorf("advice %q does not say to exec after fork", r.Advice)
				}
			}
			r.Probe = true
			if Notable(r) {
				t.Error("a probe result is notable")
			}
		})
	}
}

func TestRuntimeOfName(t *testing.T) {
	tests := map[string]string{
		"ruby": RuntimeRuby, "ruby3.3": RuntimeRuby, "/Users/u/.rbenv/versions/3.2.2/bin/ruby": RuntimeRuby,
		"php": RuntimePHP, "php8.2": RuntimePHP, "php-fpm": RuntimePHP, "php-fpm8.2": RuntimePHP, "php83-fpm": RuntimePHP, "php-cgi": RuntimePHP,
		"/opt/homebrew/opt/php/sbin/php-fpm": RuntimePHP,
		"perl":                               RuntimePerl, "perl5.30": RuntimePerl, "/usr/bin/perl5.18": RuntimePerl,
		"node": RuntimeNode, "nodejs": RuntimeNode,
		"python3.12": RuntimePython, "Python": RuntimePython,
		"puma": "", "rubocop": "", "phpstan": "", "perldoc": "", "nodemon": "", "": "", "*": "", "sentry-cli": "",
	}
	for name, want := range tests {
		if got := RuntimeOfName(name); got != want {
			t.Errorf("RuntimeOfName(%q) = %q, want %q", name, got, want)
		}
	}
	images := map[string]string{
		"libruby.3.3.dylib": RuntimeRuby, "/Users/u/.rvm/rubies/ruby-3.3.0/lib/libruby.3.3.dylib": RuntimeRuby, "libruby.so.3.1": RuntimeRuby,
		"/System/Library/Perl/5.18/darwin-thread-multi-2level/CORE/libperl.dylib": RuntimePerl,
		"libphp.so": RuntimePHP, "libphp8.so": RuntimePHP, "libnode.115.dylib": RuntimeNode,
		"libpython3.12.dylib": RuntimePython, "librubyx.dylib": "", "libperlio.dylib": "",
	}
	for im, want := range images {
		if got := runtimeOfImage(im); got != want {
			t.Errorf("runtimeOfImage(%q) = %q, want %q", im, got, want)
		}
	}
}

func TestSetRuntimeFromParent(t *testing.T) {
	tests := []struct {
		name      string
		r         Report
		exe, want string
	}{
		{"fork child of ruby", Report{Runtime: RuntimeOther, ForkChild: true, ObjCForkSafety: true, Cause: CauseForkSafety, Advice: "x"}, "/usr/bin/ruby3.1", RuntimeRuby},
		{"fork child of php-fpm", Report{Runtime: RuntimeOther, ForkChild: true, Cause: CauseForkChild, Advice: "x"}, "/opt/homebrew/opt/php/sbin/php-fpm", RuntimePHP},
		{"not a fork death: the parent says nothing", Report{Runtime: RuntimeOther, Cause: CauseCrash}, "/usr/bin/ruby", RuntimeOther},
		{"the report already knows", Report{Runtime: RuntimePerl, ForkChild: true}, "/usr/bin/ruby", RuntimePerl},
		{"a parent of no known runtime", Report{Runtime: RuntimeOther, ForkChild: true}, "/usr/local/bin/sentry-cli", RuntimeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			SetRuntimeFromParent(&r, tt.exe)
			if r.Runtime != tt.want {
				t.Errorf("runtime %q, want %q", r.Runtime, tt.want)
			}
			if r.Runtime != tt.r.Runtime && (!containsEvidence(r.Evidence, "live parent's executable") || r.Advice == "x") {
				t.Errorf("changed without evidence or advice: %q %q", r.Evidence, r.Advice)
			}
		})
	}
}
