package report

import "strings"

// Version rules that decide a fix, one place for the crash path and for
// `forkwatch check` (issue 30). Each says where it was read.

// RubyLacksForkFix says whether a Ruby version lacks Ruby's own fork-safety
// fix (Ruby initialises, before fork(), the Objective-C classes its CFString
// calls use: ruby/ruby#6426, Bug #18912). The fix is in 3.2.0 and was
// backported by version line: 3.1.3 (ruby/ruby#6440), 3.0.5
// (ruby/ruby#6441) and 2.7.7 (ruby/ruby#6442). So 2.7.7+, 3.0.5+ and 3.1.3+
// have it; every release older than 2.7.7 lacks it. known is false when
// the version does not say ("3.1" could be 3.1.2 or 3.1.3).
func RubyLacksForkFix(v string) (lacks, known bool) {
	p := splitVersion(v)
	if len(p) < 2 {
		return false, false
	}
	line := p[0]*100 + p[1]
	var first []int
	switch {
	case line >= 302:
		return false, true
	case line == 301:
		first = []int{3, 1, 3}
	case line == 300:
		first = []int{3, 0, 5}
	case line == 207:
		first = []int{2, 7, 7}
	default:
		return true, true // 2.6 and older: no backport
	}
	if len(p) < 3 {
		return false, false
	}
	return p[2] < first[2], true
}

// rubyMacOS150Note: macOS 15.0 needed a further Ruby fix (ruby/ruby#11849,
// Bug #20631); macOS 15.1 fixed the underlying bug. Said when the report
// was written on macOS 15.0.
const rubyMacOS150Note = "This report is from macOS 15.0, which needs a further Ruby fix (ruby/ruby#11849, Bug #20631) beyond the fork-safety one; macOS 15.1 fixed the underlying bug: update macOS."

// rubyMacOS150Source is where the macOS 15.0 note comes from.
const rubyMacOS150Source = "https://github.com/ruby/ruby/pull/11849"

// IsMacOS150 says whether an OS version string ("macOS 15.0 (24A335)")
// names macOS 15.0 (not a point release, whose state was not checked).
func IsMacOS150(os string) bool {
	f := strings.Fields(os)
	return len(f) >= 2 && f[0] == "macOS" && f[1] == "15.0"
}

// BilliardSpawns says whether a billiard version starts prefork children
// with spawn on macOS: 4.3.0rc1 and later (billiard CHANGES.txt,
// "4.3.0rc1 - 2026-02-26: Fix macOS fork-safety crash: default to spawn on
// darwin (#443)"). A pre-release of 4.3.0 counts from rc1 on.
func BilliardSpawns(v string) (spawns, known bool) {
	base, pre := splitPre(v)
	before, ok := versionBefore(base, "4.3.0")
	if !ok {
		return false, false
	}
	if before {
		return false, true
	}
	if len(splitVersion(base)) >= 3 && !moreThan(base, "4.3.0") && pre != "" {
		// 4.3.0aN, 4.3.0bN came before rc1 (there were none); rcN >= 1.
		return strings.HasPrefix(pre, "rc") && pre != "rc0", true
	}
	return true, true
}

// RQHasSpawnWorker says whether an rq version has SpawnWorker (rq docs,
// workers.md: "New in version 2.2.0").
func RQHasSpawnWorker(v string) (has, known bool) {
	before, ok := versionBefore(v, "2.2.0")
	return ok && !before, ok
}

// GunicornSetsTitle says whether a gunicorn version sets its process title
// on macOS: gunicorn 25.0.0 and later do not (gunicorn/util.py: "setproctitle
// causes segfaults on macOS due to fork() safety issues", commit be6f3b97,
// first in 25.0.0), so "gunicorn: master [...]" names only older ones.
func GunicornSetsTitle(v string) (sets, known bool) {
	before, ok := versionBefore(v, "25.0.0")
	return ok && before, ok
}

// SolidQueueHasAsync says whether a solid_queue version has the async
// supervisor mode (bin/jobs --mode async, SOLID_QUEUE_SUPERVISOR_MODE,
// the Puma plugin's solid_queue_mode :async): 1.3.0 and later
// (lib/solid_queue/cli.rb's --mode option first in v1.3.0).
func SolidQueueHasAsync(v string) (has, known bool) {
	before, ok := versionBefore(v, "1.3.0")
	return ok && !before, ok
}

// splitPre splits "4.3.0rc1" into "4.3.0" and "rc1".
func splitPre(v string) (base, pre string) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != '.' && (c < '0' || c > '9') {
			return strings.TrimSuffix(v[:i], "."), v[i:]
		}
	}
	return v, ""
}

// moreThan says whether v is newer than min.
func moreThan(v, min string) bool {
	before, ok := versionBefore(v, min)
	if !ok || before {
		return false
	}
	after, _ := versionBefore(min, v)
	return after
}
