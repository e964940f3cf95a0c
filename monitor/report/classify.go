package report

import (
	"path"
	"regexp"
	"strings"
	"time"
	"unsafe"
)

// Markers that macOS writes into the application specific information of a
// process that crashed between fork() and exec() (libsystem_c's fork child
// handler), and the Objective-C runtime's message when its +initialize check
// kills such a child (objc4 objc-initialize.mm, performForkChildInitialize).
//
// CoreFoundation's child-side fork handler (__CFAtForkChild, in
// CFRuntime.c of apple-oss-distributions/CF and swift-corelibs-foundation)
// writes "*** multi-threaded process forked ***" or "*** single-threaded
// process forked ***" into the crash-log message of a child forked from a
// process that had used CoreFoundation: either line proves a fork child,
// and the rest of the report decides the cause.
const (
	markerForkChild    = "crashed on child side of fork pre-exec"
	markerMultiThread  = "*** multi-threaded process forked ***"
	markerSingleThread = "*** single-threaded process forked ***"
)

// CoreFoundation's own fork check: a forked child that calls CoreFoundation
// before exec is stopped in a function named for the purpose, after the
// message "The process has forked and you cannot use this CoreFoundation
// functionality safely. You MUST exec()." (Apple, CoreFoundation release
// notes for Mac OS X 10.5, "CoreFoundation and fork()"). It is not the
// Objective-C +initialize check: OBJC_DISABLE_INITIALIZE_FORK_SAFETY does
// not turn it off (users report it with the variable set, e.g.
// DeepLabCut/DeepLabCut#1362, shred86/Ortho4XP#60).
const (
	cfForkSymbol  = "__THE_PROCESS_HAS_FORKED_AND_YOU_CANNOT_USE_THIS_COREFOUNDATION_FUNCTIONALITY___YOU_MUST_EXEC__"
	cfForkMessage = "The process has forked and you cannot use this CoreFoundation functionality safely"
)

var (
	reObjCLine = regexp.MustCompile(`\+\[([A-Za-z_][A-Za-z0-9_]*) initialize\] may have been in progress in another thread when fork\(\) was called`)
	// reObjCCut is the same line cut short, as excerpts pasted into bug
	// reports often are: "objc[123]: +[NSString initialize] may have been in pro".
	reObjCCut    = regexp.MustCompile(`objc\[\d+\]: \+\[([A-Za-z_][A-Za-z0-9_]*) initialize\] may have`)
	rePythonName = regexp.MustCompile(`^(?i:python)(\d+(\.\d+)*)?[tw]?(-\S+)?$`)
)

// objcForkFrames appear in the crashed thread when the Objective-C runtime's
// fork-safety check fires (objc4: performForkChildInitialize calls _objc_fatal;
// objc_initializeAfterForkError is the documented breakpoint symbol).
var objcForkFrames = []string{"performForkChildInitialize", "objc_initializeAfterForkError"}

// Classify turns parsed facts into a Report: is it Python, did it die in a
// fork child, was it the Objective-C fork-safety check, and what to do.
func Classify(f *facts) *Report {
	r := newReport(f)
	classifyPython(r, f)
	asi := joinLines(f.asi, &f.joined)
	cfFork, objcTerm := classifyFork(r, f, asi)
	classifyCause(r, f, asi, cfFork)
	fromReport(r, f)
	r.Advice = adviceFor(r, objcTerm)
	return r
}

// joinLines is strings.Join(lines, "\n"), made in *buf (kept for the next
// call) where it takes more than one line: the text is read while Classify
// runs and never kept (what is kept of it is copied: clean, or a string
// made from it), so a sweep does not make a string of it for each report.
func joinLines(lines []string, buf *[]byte) string {
	if len(lines) < 2 {
		return strings.Join(lines, "\n") // no allocation for none or one
	}
	b := (*buf)[:0]
	for i, l := range lines {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, l...)
	}
	*buf = b
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// newReport copies the header's facts, cleaned, into a Report.
func newReport(f *facts) *Report {
	if f.process == "" && f.exePath != "" {
		if b := path.Base(f.exePath); b != "*" && b != "." && b != "/" {
			f.process = b
		}
	}
	// Cleaned without a copy each, then, as they are views into the
	// report's bytes (both parsers read strings so; the .ips parser copies
	// only a string with an escape to undo), copied into one block
	// together: one allocation, not one per field.
	clean := cleanOwned
	r := &Report{
		Format:             f.format,
		Process:            clean(f.process, 128),
		PID:                f.pid,
		ParentProcess:      clean(f.parent, 128),
		ParentPID:          f.parentPID,
		HasUserID:          f.hasUserID,
		UserID:             uidField(f.userID),
		ResponsibleProcess: clean(f.responsible, 128),
		ExePath:            clean(f.exePath, 1024),
		BundleID:           clean(f.bundleID, 256),
		Time:               normTime(f.time),
		OSVersion:          clean(f.osVersion, 128),
		Exception:          clean(f.exception, 64),
		Signal:             clean(f.signal, 32),
		Partial:            f.partial,
		Evidence:           f.evidence, // Parse's scratch, copied to fit when Classify is done
	}
	copyTogether(&r.Process, &r.ParentProcess, &r.ResponsibleProcess, &r.ExePath, &r.BundleID, &r.OSVersion, &r.Exception, &r.Signal)
	if f.termNS != "" {
		r.Termination = cleanOwned("Namespace "+f.termNS+", Code "+f.termCode, 64)
	}
	if f.processGuess {
		r.Evidence = append(r.Evidence, "process name inferred from the crashed thread's backtrace (no header in the report)")
	}
	return r
}

// classifyPython decides whether the process is a Python interpreter: by
// its name, executable, bundle id or framework, else (a fragment without a
// header) by the frames of its crashed thread.
func classifyPython(r *Report, f *facts) {
	ev := func(s string) { r.Evidence = append(r.Evidence, s) }
	base := path.Base(f.exePath)
	switch {
	case IsPythonName(f.process):
		r.Python = true
		ev("process name " + quote(r.Process))
	case f.exePath != "" && IsPythonName(base) && base != "*":
		r.Python = true
		ev("executable " + quote(r.ExePath))
	case f.bundleID == "org.python.python" || f.bundleID == "com.apple.python3":
		r.Python = true
		ev("bundle id " + r.BundleID)
	case strings.Contains(f.exePath, "/Python.framework/") || strings.Contains(f.exePath, "/Python3.framework/"):
		r.Python = true
		ev("executable inside a Python framework")
	}
	if !r.Python && f.exePath == "" {
		// A fragment without header: only the frames show the interpreter.
		for _, fr := range f.crashed {
			if isLibPython(fr.image) || fr.image == "org.python.python" {
				r.Python = true
				ev("crashed thread runs in " + quote(cleanOwned(fr.image, 128)))
				break
			}
		}
	}
	if r.Python && (strings.Contains(f.exePath, "Python.framework") || strings.Contains(f.exePath, "Python3.framework")) && !containsEvidence(r.Evidence, "framework") {
		ev("framework build (" + frameworkOf(f.exePath) + ")")
	}
}

// classifyFork reads what says the process died in a fork child and how:
// the Application Specific Information's fork markers, the Objective-C
// check's message and frames, CoreFoundation's own check, and an OBJC
// termination reason.
func classifyFork(r *Report, f *facts, asi string) (cfFork, objcTerm bool) {
	ev := func(s string) { r.Evidence = append(r.Evidence, s) }
	// The evidence lines are constants: most fork deaths give one.
	if strings.Contains(asi, markerForkChild) {
		r.ForkChild = true
		ev("application specific information: \"" + markerForkChild + "\"")
	}
	const cfHandler = "\" (CoreFoundation's fork handler in the child)"
	if strings.Contains(asi, markerMultiThread) {
		r.ForkChild = true
		ev("application specific information: \"" + markerMultiThread + cfHandler)
	}
	if strings.Contains(asi, markerSingleThread) {
		r.ForkChild = true
		ev("application specific information: \"" + markerSingleThread + cfHandler)
	}

	// The Objective-C +initialize fork-safety check? (Both of its
	// spellings hold "initialize]": most reports are passed over without
	// running the expressions.)
	var m []string
	if strings.Contains(asi, " initialize]") {
		if m = reObjCLine.FindStringSubmatch(asi); m != nil {
			r.ObjCForkSafety, r.ForkChild = true, true
			r.ObjCClass = clean(m[1], 128)
			ev("objc message: +[" + m[1] + " initialize] may have been in progress in another thread when fork() was called")
		} else if m = reObjCCut.FindStringSubmatch(asi); m != nil {
			r.ObjCForkSafety, r.ForkChild = true, true
			r.ObjCClass = clean(m[1], 128)
			ev("objc message, cut short: +[" + m[1] + " initialize] may have …")
		}
	}

	// CoreFoundation's own fork check?
	if strings.Contains(asi, cfForkMessage) || strings.Contains(asi, cfForkSymbol) {
		cfFork = true
		ev("application specific information: " + quote(cfForkMessage))
	}
	for _, fr := range f.crashed {
		if strings.Contains(fr.symbol, cfForkSymbol) {
			cfFork = true
			ev("crashed thread calls " + cfForkSymbol)
			break
		}
	}
	if cfFork {
		r.ForkChild = true
	}
	for _, fr := range f.crashed {
		for _, sym := range objcForkFrames {
			if strings.Contains(fr.symbol, sym) {
				if !r.ObjCForkSafety || !containsEvidence(r.Evidence, sym) {
					ev("crashed thread calls " + sym)
				}
				r.ObjCForkSafety, r.ForkChild = true, true
			}
		}
	}
	objcTerm = isObjCTermination(f.termNS, f.termCode)
	if objcTerm {
		ev("termination reason: Namespace OBJC, Code 1")
		if r.ForkChild {
			r.ObjCForkSafety = true
		}
	}
	return cfFork, objcTerm
}

// classifyCause names the cause and, for a death after fork(), what
// triggered it; a report cut before the parts that would show a fork says
// so instead of "not after fork()".
func classifyCause(r *Report, f *facts, asi string, cfFork bool) {
	// A named cause only means something for a death after fork(): an
	// ordinary crash has CoreFoundation frames too.
	if r.ForkChild {
		r.Trigger = trigger(f, asi)
	}
	if r.Trigger != "" {
		r.Evidence = append(r.Evidence, "trigger: "+r.Trigger)
	}
	switch {
	case r.ObjCForkSafety:
		r.Cause = CauseForkSafety
	case cfFork:
		r.Cause = CauseCFFork
	case r.ForkChild:
		r.Cause = CauseForkChild
		// "Not the Objective-C check" only when the termination reason
		// is there and names something else; without it the report
		// cannot say (an excerpt, a report without the member).
		if f.termNS != "" {
			r.Evidence = append(r.Evidence, evidenceObjCRuledOut+": Namespace "+cleanOwned(f.termNS, 32)+", Code "+cleanOwned(f.termCode, 32))
		} else {
			r.Evidence = append(r.Evidence, evidenceObjCUnknown)
		}
	default:
		r.Cause = CauseCrash
	}
	if r.Cause == CauseCrash && f.partial && len(f.asi) == 0 && f.termNS == "" {
		// The part of a report that shows a death after fork() (the
		// application specific information, the termination reason) is
		// not there: say so rather than "not after fork()".
		r.Evidence = append(r.Evidence, evidenceForkUnknown)
	}
}

// fromReport fills what the report itself says about who crashed: the
// interpreter's origin and version, the environment and project from the
// loaded images, the tool (where an image path names it), and for a crash
// that is not a fork death the extension module at fault.
func fromReport(r *Report, f *facts) {
	if r.Python {
		images := f.images
		for _, fr := range f.crashed {
			if isLibPython(fr.image) {
				images = append(images[:len(images):len(images)], fr.image)
			}
		}
		origin, version := interpreterOf(f.exePath, f.bundleID, f.appVersion, images)
		r.Interpreter, r.PythonVersion = clean(origin, 32), clean(version, 32)
		venv, project := envOf(f.images)
		r.Venv, r.Project = clean(venv, 1024), clean(project, 1024)
		if r.Venv != "" && origin == "" {
			r.Interpreter = OriginVenv
		}
		if r.Interpreter != "" {
			r.Evidence = append(r.Evidence, "interpreter: "+r.Interpreter+versionSuffix(r.PythonVersion))
		}
		if r.Venv != "" {
			r.Evidence = append(r.Evidence, "environment from loaded images: "+r.Venv)
		}
	}
	var rtEv string
	if r.Runtime, rtEv = runtimeOf(r, f); rtEv != "" {
		r.Evidence = append(r.Evidence, rtEv)
	}
	if r.Runtime == RuntimeRuby {
		lacks, known := RubyLacksForkFix(rubyVersionOf(f))
		r.rubyLacksForkFix = lacks && known
	}
	if fw := frameworkFromReport(f); fw != nil {
		r.Framework, r.FrameworkEvidence = fw.Name, EvidenceReport
		r.Evidence = append(r.Evidence, "tool from the report's paths: "+fw.Name)
	} else if r.ForkChild && r.Python {
		for _, im := range f.images {
			if strings.Contains(path.Base(im), "_multiprocessing.") {
				// A fork child that loaded multiprocessing's extension:
				// most likely a fork-context pool; a live parent's command
				// line, when known, overrides this.
				r.Framework, r.FrameworkEvidence = "multiprocessing", EvidenceReport
				r.Evidence = append(r.Evidence, "multiprocessing's extension module is loaded in the fork child")
				break
			}
		}
	}
	if r.Cause == CauseCrash && r.Python {
		for _, fr := range f.crashed {
			if isSystemFrame(fr) || isPythonRuntimeImage(fr.image) || fr.path == f.exePath && f.exePath != "" {
				continue
			}
			r.Module = clean(moduleOf(fr.image, fr.path), 128)
			r.ModulePath = clean(fr.path, 1024)
			if r.Module != "" {
				r.Evidence = append(r.Evidence, "first non-system image in the crashed thread: "+cleanOwned(fr.image, 128))
			}
			break
		}
	}
}

// isSystemFrame says whether a frame runs in macOS's own code. The image's
// path decides where the report gives it (a "libtorch.dylib" is no system
// library); else its name.
func isSystemFrame(fr frame) bool {
	if fr.path != "" {
		return isSystemPath(fr.path)
	}
	return isSystemImage(fr.image) && !isLibPython(fr.image)
}

func versionSuffix(v string) string {
	if v == "" {
		return ""
	}
	return " " + v
}

// trigger names a known cause seen in the crashed thread or the images.
func trigger(f *facts, asi string) string {
	has := func(pred func(frame) bool) bool {
		for _, fr := range f.crashed {
			if pred(fr) {
				return true
			}
		}
		return false
	}
	switch {
	case has(func(fr frame) bool {
		return strings.Contains(fr.image, "_scproxy") || strings.Contains(fr.symbol, "get_proxy_settings") ||
			strings.Contains(fr.symbol, "SCDynamicStoreCopyProxies") || strings.Contains(fr.symbol, "CFNetworkCopySystemProxySettings")
	}):
		return "_scproxy"
	case has(func(fr frame) bool {
		return strings.Contains(fr.image, "Metal") || strings.Contains(fr.image, "IOGPU") || strings.Contains(fr.image, "MPS") ||
			strings.Contains(fr.image, "libmlx") || strings.Contains(fr.symbol, "mps::")
	}):
		return "metal"
	case strings.Contains(asi, "BUG IN CLIENT OF LIBDISPATCH") || has(func(fr frame) bool {
		return fr.image == "libdispatch.dylib" && strings.Contains(fr.symbol, "assert")
	}):
		return "libdispatch"
	case strings.Contains(asi, "BUG IN CLIENT OF LIBPLATFORM"):
		return "libplatform"
	case has(func(fr frame) bool {
		return fr.image == "CoreFoundation" || fr.image == "com.apple.CoreFoundation"
	}):
		return "corefoundation"
	}
	return ""
}

// advice says what to do, never more than the evidence shows: the Python
// fixes (multiprocessing.set_start_method, no_proxy for _scproxy) only for
// a Python process; for any other program (monerod, VirtualBox, a Rust
// binary) the runtime-neutral one, exec or posix_spawn after fork; and for
// a report cut short with no sign of fork(), that there is not enough of it
// to tell.
func advice(r *Report, objcTerm bool) string {
	// Each text is one constant per case (the fix chosen by a branch, not
	// a variable joined on): the start-up sweep gives advice to thousands
	// of reports, and a joined string was an allocation each.
	const pyFix = fixPython
	const anyFix = fixAny
	switch {
	case r.Cause == CauseCFFork && r.Python:
		return "A forked child used CoreFoundation before exec, and CoreFoundation's own fork check stopped it (\"You MUST exec()\"). OBJC_DISABLE_INITIALIZE_FORK_SAFETY does not help with this check. Fix: exec after fork — multiprocessing.set_start_method('spawn'), subprocess, or posix_spawn — or keep CoreFoundation users (proxy lookups, Keychain, GUI toolkits) out of the child."
	case r.Cause == CauseCFFork:
		return "A forked child used CoreFoundation before exec, and CoreFoundation's own fork check stopped it (\"You MUST exec()\"). OBJC_DISABLE_INITIALIZE_FORK_SAFETY does not help with this check. " + anyFix
	case r.ObjCForkSafety && r.Python && r.Trigger == "_scproxy":
		return "The forked child looked up the system proxy settings (urllib/requests → _scproxy) and the Objective-C runtime killed it. Set no_proxy='*' in the parent's environment, or don't fork. " + pyFix
	case r.ObjCForkSafety && r.Python:
		return "macOS killed a forked Python child that ran an Objective-C +initialize before exec. " + pyFix + " Stopgap: start the parent with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES in its environment (setting it inside Python is too late)."
	case r.ObjCForkSafety:
		return "This process forked without exec and the Objective-C fork-safety check killed the child. Starting it with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES silences the check; the real fix is to exec (or posix_spawn) after fork."
	case r.ForkChild && !r.ObjCRuledOut() && r.Python:
		return forkUnknownAdvice(r.Trigger, pyFix)
	case r.ForkChild && !r.ObjCRuledOut():
		return forkUnknownAdvice(r.Trigger, anyFix)
	case r.ForkChild && r.Trigger != "" && r.Python:
		return "It crashed in a forked child before exec, in " + r.Trigger + ", not by the Objective-C check: OBJC_DISABLE_INITIALIZE_FORK_SAFETY will not help. " + pyFix
	case r.ForkChild && r.Trigger != "":
		return "It crashed in a forked child before exec, in " + r.Trigger + ", not by the Objective-C check: OBJC_DISABLE_INITIALIZE_FORK_SAFETY will not help. " + anyFix
	case r.ForkChild && r.Python:
		return "It crashed in a forked child before exec, but not by the Objective-C check: OBJC_DISABLE_INITIALIZE_FORK_SAFETY will not help. " + pyFix
	case r.ForkChild:
		return "It crashed in a forked child before exec, but not by the Objective-C check: OBJC_DISABLE_INITIALIZE_FORK_SAFETY will not help. " + anyFix
	case objcTerm:
		// The headline says the same: stopped by the runtime, fork unknown.
		return "The Objective-C runtime stopped this process (Namespace OBJC), but the report does not show whether it was a forked child (its parent is " + orUnknown(r.ParentProcess) + "): if it was, this is the fork-safety check; the report's Application Specific Information says which."
	case r.ForkUnknown():
		return "The report stops early (an excerpt, a header only, or a file still being written): not enough of the report to tell whether it died after fork() or why. Open the whole report, or inspect it again once it is complete."
	case r.Python && r.Module != "":
		where := ""
		if r.ModulePath != "" {
			where = " (" + r.ModulePath + ")"
		}
		return "Python crashed (" + orUnknown(r.Signal) + ") in the extension module " + r.Module + where + ", not from fork(): upgrade " + r.Module + " or report the crash to its maintainers with this report."
	case r.Python:
		return "Python crashed (" + orUnknown(r.Signal) + "), not from fork(): look at the crashed thread in the report for the extension module at fault."
	}
	return ""
}

// evidenceForkUnknown is the evidence line of a report cut short before
// the sections that would show a death after fork().
const evidenceForkUnknown = "the report stops before its application specific information and termination reason: not enough of the report to tell whether it died after fork()"

// Evidence lines that say whether the Objective-C check is ruled out for
// a fork child it did not visibly kill.
const (
	evidenceObjCRuledOut = "the termination reason names something other than the Objective-C check (Namespace OBJC, Code 1)"
	evidenceObjCUnknown  = "no termination reason in the report: not enough to tell whether the Objective-C check killed the fork child"
)

// ObjCRuledOut reports whether a fork child's report shows a termination
// reason that is not the Objective-C check's: only then may a text say "not
// the Objective-C check" (and that the variable will not help). Without a
// termination reason (an excerpt, a report without the member) it is
// false: not enough to tell. It reads the evidence, so it survives the
// report's JSON.
func (r *Report) ObjCRuledOut() bool { return containsEvidence(r.Evidence, evidenceObjCRuledOut) }

// The real fix each advice ends with: for Python (advice), for another
// runtime's fork death (forkAdvice), and for any other process.
const (
	fixPython  = "Real fix: don't fork without exec — use multiprocessing.set_start_method('spawn'), subprocess, or a server setting that avoids preloading before fork."
	fixAny     = "Real fix: exec (or posix_spawn) right after fork(), so that the child runs no Objective-C or CoreFoundation code of the parent."
	fixRuntime = "The real fix is to exec (or posix_spawn) after fork(), or to load what uses macOS frameworks in each child after the fork rather than in the parent before it."
)

// forkUnknownAdvice is the advice for a fork child whose report does not
// say what stopped it, ending with fix (one of the fix* constants). Without
// a trigger it is a constant: no allocation for the commonest fork death.
func forkUnknownAdvice(trigger, fix string) string {
	const head = "It crashed in a forked child before exec"
	const why = "; the report has no termination reason, so there is not enough to tell whether the Objective-C fork-safety check killed it (if it did, starting the parent with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES silences the check). "
	if trigger != "" {
		return head + ", in " + trigger + why + fix
	}
	switch fix {
	case fixPython:
		return head + why + fixPython
	case fixRuntime:
		return head + why + fixRuntime
	case fixAny:
		return head + why + fixAny
	}
	return head + why + fix
}

// ForkUnknown reports whether the report was cut short before the
// sections that would show a death after fork() (a header only, or an
// excerpt without them): then its verdict says "not enough of the report to
// tell" instead of "not after fork()". It reads the evidence, so it
// survives the report's JSON (the history).
func (r *Report) ForkUnknown() bool { return containsEvidence(r.Evidence, evidenceForkUnknown) }

// ObjCTerminated reports whether the report's termination reason is the
// Objective-C runtime's (Namespace OBJC, Code 1) — evidence that the
// runtime stopped the process, not by itself that it was a fork child.
func (r *Report) ObjCTerminated() bool {
	return containsEvidence(r.Evidence, "termination reason: Namespace OBJC")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func containsEvidence(ev []string, s string) bool {
	for _, e := range ev {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}

func frameworkOf(p string) string {
	for _, fw := range []string{"Python3.framework", "Python.framework"} {
		if i := strings.Index(p, fw); i >= 0 {
			return p[:i+len(fw)]
		}
	}
	return p
}

// timeLayouts are the date forms crash reports use.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05.999999999 +0000",
	time.RFC3339Nano,
}

// normTime turns a report's date into RFC 3339, or returns "" if unknown.
func normTime(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "" // a fifth of reports give no date: no failed parse for each layout
	}
	if t, ok := reportTimeRFC3339(s); ok {
		return t
	}
	return normTimeParse(s)
}

// normTimeParse is normTime by time.Parse, for any date reportTimeRFC3339
// does not take.
func normTimeParse(s string) string {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return ""
}

// clean makes report text safe to show: no control characters (a process
// name can hold newlines or escape sequences), valid UTF-8, bounded length.
func clean(s string, max int) string {
	// Fast path: short printable ASCII needs no change (but is copied, so
	// that no report text keeps a whole file's buffer alive).
	if t, ok := cleanAlready(s, max); ok {
		return strings.Clone(t)
	}
	return cleanSlow(s, max)
}

// cleanOwned is clean for text that is not kept as it is: text about to
// be copied into another string (a concatenation, copyTogether). It copies
// only what needs changing; clean's copy of the rest was garbage straight
// away.
func cleanOwned(s string, max int) string {
	if t, ok := cleanAlready(s, max); ok {
		return t
	}
	return cleanSlow(s, max)
}

// copyTogether copies the strings into one new block and points each at
// its copy: what clean's copy of each does, in one allocation.
func copyTogether(ss ...*string) {
	n := 0
	for _, s := range ss {
		n += len(*s)
	}
	if n == 0 {
		return
	}
	buf := make([]byte, 0, n)
	for _, s := range ss {
		start := len(buf)
		buf = append(buf, *s...)
		*s = unsafe.String(unsafe.SliceData(buf[start:]), len(*s))
	}
}

// cleanAlready returns s trimmed, and ok, when it needs no other change:
// short printable ASCII.
func cleanAlready(s string, max int) (string, bool) {
	if len(s) > max {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return "", false
		}
	}
	return strings.TrimSpace(s), true
}

// cleanSlow is clean for text with something to change: it builds a new
// string.
func cleanSlow(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\uFFFD' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') ||
			r == '\u200e' || r == '\u200f' || r == '\u061c':
			// C0 and C1 controls (ESC and CSI start terminal escape
			// sequences), line and paragraph separators, and every
			// Unicode bidirectional control (UAX #9: embeddings,
			// overrides, isolates, and the LRM, RLM and ALM marks).
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
		n++
	}
	return strings.TrimSpace(b.String())
}

// Clean is clean for other packages: report text and file names are data.
func Clean(s string, max int) string { return clean(s, max) }

func quote(s string) string { return "\"" + s + "\"" }
