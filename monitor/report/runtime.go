package report

import (
	"path"
	"regexp"
	"strings"
)

// Runtimes, as Report.Runtime names them. The Objective-C fork-safety check
// does not care which language forked: after Python, Ruby (rails/rails#38560,
// puma#1421), PHP-FPM (php/php-src#11818) and Perl (skaji/cpm#246) are where
// people meet it. "other" is any other program (a Rust CLI, VirtualBox, an
// app), or a report that says too little.
const (
	RuntimePython = "python"
	RuntimeRuby   = "ruby"
	RuntimePHP    = "php"
	RuntimePerl   = "perl"
	RuntimeNode   = "node"
	RuntimeOther  = "other"
)

// Runtimes lists the runtimes in the order the history, the page and the
// menu show them.
var Runtimes = []string{RuntimePython, RuntimeRuby, RuntimePHP, RuntimePerl, RuntimeNode, RuntimeOther}

// Executable names of each runtime as the installs name them: ruby and
// ruby3.3 (Debian, Homebrew's versioned kegs, rbenv/rvm/asdf builds),
// php, php8.3, php-fpm, php-fpm8.2, php-cgi, and Herd's php83-fpm
// (beyondcode/herd-community#1656: "php83-fpm-*.ips"), perl and Apple's
// perl5.30/perl5.34 (/usr/bin/perl5.18 in Perl/perl5#14819), node and
// Debian's nodejs.
var (
	reRubyName = regexp.MustCompile(`^(?i:ruby)(\d+(\.\d+)*)?$`)
	rePHPName  = regexp.MustCompile(`^(?i:php)(\d+(\.\d+)*)?(-fpm|-cgi)?(\d+(\.\d+)*)?$`)
	rePerlName = regexp.MustCompile(`^(?i:perl)(\d+(\.\d+)*)?$`)
	reNodeName = regexp.MustCompile(`^(?i:node|nodejs)$`)
	// Interpreter libraries a process of the runtime runs in: libruby.3.3.dylib
	// (rails/solid_queue#357's crashed threads), libperl.dylib (Apple's
	// /System/Library/Perl/5.x/.../CORE/libperl.dylib, Perl/perl5#14819),
	// libphp.so / libphp8.so (mod_php), libnode.NNN.dylib (a shared Node).
	reRubyLib = regexp.MustCompile(`^libruby(\.\d+)*(\.dylib|\.so)(\.\d+)*$`)
	rePerlLib = regexp.MustCompile(`^libperl(\.\d+)*\.(dylib|so)(\.\d+)*$`)
	rePHPLib  = regexp.MustCompile(`^libphp\d*(\.\d+)*\.(dylib|so)$`)
	reNodeLib = regexp.MustCompile(`^libnode(\.\d+)*\.(dylib|so)(\.\d+)*$`)
)

// RuntimeOfName says which runtime an executable name (a path's last
// element, a process name) belongs to, or "" when the name says none.
func RuntimeOfName(name string) string {
	name = path.Base(strings.TrimSpace(name))
	switch {
	case name == "" || name == "." || name == "/" || name == "*":
		return ""
	case IsPythonName(name):
		return RuntimePython
	case !strings.ContainsAny(name[:1], "rRpPnN"):
		// Each pattern below starts with one of these letters (in any
		// case): no regexp run for the other names.
		return ""
	case reRubyName.MatchString(name):
		return RuntimeRuby
	case rePHPName.MatchString(name):
		return RuntimePHP
	case rePerlName.MatchString(name):
		return RuntimePerl
	case reNodeName.MatchString(name):
		return RuntimeNode
	}
	return ""
}

// runtimeOfImage says which runtime a loaded image (name or path) is the
// interpreter library of, or "".
func runtimeOfImage(im string) string {
	b := path.Base(im)
	if !strings.HasPrefix(b, "lib") {
		// Every pattern below starts with "lib": no regexp run for the
		// many images of a report that cannot match (a sweep asks for
		// each crashed frame's image).
		return ""
	}
	// Each expression runs only on the names that start with its literal.
	switch {
	case isLibPython(b):
		return RuntimePython
	case strings.HasPrefix(b, "libruby") && reRubyLib.MatchString(b):
		return RuntimeRuby
	case strings.HasPrefix(b, "libperl") && rePerlLib.MatchString(b):
		return RuntimePerl
	case strings.HasPrefix(b, "libphp") && rePHPLib.MatchString(b):
		return RuntimePHP
	case strings.HasPrefix(b, "libnode") && reNodeLib.MatchString(b):
		return RuntimeNode
	}
	return ""
}

// runtimeOf decides Report.Runtime from what the report says, strongest
// first: the Python signals Classify already weighed, the executable's name
// and path (Apple's Ruby.framework keeps its ruby under
// /System/Library/Frameworks/Ruby.framework/), the process name, then the
// interpreter library the crashed thread runs in, then the other images the
// parser kept. An app that embeds an interpreter (vim with libruby) counts
// as that runtime only when the crashed thread is in it. It returns the
// runtime and the evidence line, or RuntimeOther and "".
func runtimeOf(r *Report, f *facts) (runtime, evidence string) {
	if r.Python {
		return RuntimePython, ""
	}
	if rt := RuntimeOfName(f.exePath); rt != "" {
		return rt, "runtime from the executable " + quote(r.ExePath)
	}
	if strings.Contains(f.exePath, "/Ruby.framework/") {
		return RuntimeRuby, "runtime from the executable inside Ruby.framework"
	}
	if rt := RuntimeOfName(f.process); rt != "" && !f.processGuess {
		return rt, "runtime from the process name " + quote(r.Process)
	}
	for _, fr := range f.crashed {
		for _, im := range []string{fr.image, fr.path} {
			if rt := runtimeOfImage(im); rt != "" {
				return rt, "runtime from the crashed thread's image " + quote(clean(path.Base(im), 128))
			}
		}
	}
	for _, im := range f.images {
		if rt := runtimeOfImage(im); rt != "" {
			return rt, "runtime from the loaded image " + quote(clean(path.Base(im), 128))
		}
	}
	return RuntimeOther, ""
}

// RuntimeLabel is a runtime as texts name it: "Python", "Ruby", "PHP",
// "Perl", "Node.js"; "" for other.
func RuntimeLabel(rt string) string {
	switch rt {
	case RuntimePython:
		return "Python"
	case RuntimeRuby:
		return "Ruby"
	case RuntimePHP:
		return "PHP"
	case RuntimePerl:
		return "Perl"
	case RuntimeNode:
		return "Node.js"
	}
	return ""
}

// IsRuntime says whether s is one of Runtimes.
func IsRuntime(s string) bool {
	for _, rt := range Runtimes {
		if s == rt {
			return true
		}
	}
	return false
}

// RuntimeOrOther is r's runtime, with reports recorded before the field
// existed (empty) read as Python or other from the Python flag.
func RuntimeOrOther(r *Report) string {
	switch {
	case r.Runtime != "":
		return r.Runtime
	case r.Python:
		return RuntimePython
	}
	return RuntimeOther
}

// Notable is the one rule for which crashes Forkwatch announces (a
// notification, the watch command's advice line, the menu's unseen count and
// list, the status line's count): any process killed after fork() by the
// Objective-C check or CoreFoundation's, or dying on the child side of a
// fork before exec, whatever its runtime; and any other Python crash.
// Other crashes of other programs are recorded but stay quiet. Probe
// results are test runs, never announced.
func Notable(r *Report) bool {
	if r == nil || r.Probe {
		return false
	}
	return r.ForkChild || r.ObjCForkSafety || r.Cause == CauseCFFork || r.Cause == CauseForkSafety || r.Cause == CauseForkChild || r.Python
}

// forkAdvice is the advice for a death after fork() of a process that is
// not Python: the same facts as advice's, without Python's remedies
// (multiprocessing start methods, no_proxy for urllib). The tool's own fix,
// where attribution finds one, is Report.Fix.
func forkAdvice(r *Report) string {
	const realFix = fixRuntime
	switch {
	case r.Cause == CauseCFFork:
		return "A forked child used CoreFoundation before exec, and CoreFoundation's own fork check stopped it (\"You MUST exec()\"). OBJC_DISABLE_INITIALIZE_FORK_SAFETY does not help with this check. " + realFix
	case r.ObjCForkSafety && r.Trigger == "_scproxy":
		return "The forked child looked up the system proxy settings and the Objective-C fork-safety check killed it. Starting the parent with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES in its environment silences the check. " + realFix
	case r.ObjCForkSafety:
		return "This process forked without exec and the Objective-C fork-safety check killed the child. Starting the parent with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES in its environment silences the check. " + realFix
	case !r.ObjCRuledOut():
		return forkUnknownAdvice(r.Trigger, realFix)
	case r.Trigger != "":
		return "It crashed in a forked child before exec, in " + r.Trigger + ", not by the Objective-C check: OBJC_DISABLE_INITIALIZE_FORK_SAFETY will not help. " + realFix
	}
	return "It crashed in a forked child before exec, not by the Objective-C check: OBJC_DISABLE_INITIALIZE_FORK_SAFETY will not help. " + realFix
}

// adviceFor is advice for a Python crash or any crash that is no death
// after fork(), and forkAdvice for the fork deaths of other runtimes.
func adviceFor(r *Report, objcTerm bool) string {
	if r.Runtime != RuntimePython && r.ForkChild {
		return forkAdvice(r)
	}
	return advice(r, objcTerm)
}

// SetRuntimeFromParent sets the runtime of a fork child whose report alone
// said "other" from its live parent's executable: a child forked without
// exec runs its parent's program. exe is the parent's executable path (or
// its name when the path is unreadable). For a crash that is no fork death
// the parent says nothing about the child, and nothing changes.
func SetRuntimeFromParent(r *Report, exe string) {
	if r == nil || !r.ForkChild || (r.Runtime != "" && r.Runtime != RuntimeOther) {
		return
	}
	rt := RuntimeOfName(exe)
	if rt == "" {
		return
	}
	r.Runtime = rt
	r.Evidence = append(r.Evidence, "runtime from the live parent's executable "+quote(clean(exe, 1024))+" (a fork child runs its parent's program)")
	if rt != RuntimePython && r.Advice != "" {
		r.Advice = forkAdvice(r)
	}
}
