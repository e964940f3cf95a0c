package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unsafe"
)

// The legacy text layout (macOS 10.13-11 .crash files, and the "Translated
// Report" Console shows for a .ips): "Key:   value" header lines, then
// "Application Specific Information:", the threads ("Thread 0 Crashed::"),
// thread state and "Binary Images:".

// crashParser is the state of one pass over a text report. The pass reads
// it in sections, each method named after what it reads: the header's
// "Key: value" lines, the Application Specific Information, the threads'
// backtraces and the Binary Images list.
type crashParser struct {
	f             *facts
	section       int
	crashedThread int
	curThread     int
	sawImages     bool
	markers       int               // lines that only a crash report has
	imageByName   map[string]string // Binary Images outside the system folders
	crashedNames  map[string]bool   // images the crashed thread runs in
	namesRead     bool              // crashedNames is filled in
	pythonish     bool              // the report so far names a Python process
}

// The sections of a text report.
const (
	secNone = iota
	secASI
	secThread
	secImages
)

func parseCrash(data []byte, sc *scratch) (*facts, error) {
	f, _, err := parseCrashLines(data, sc, false)
	return f, err
}

// parseCrashOrMarker is parseCrash that stops at the first "Full Report"
// marker line followed by JSON (as fullReportJSON finds it) and returns
// that JSON instead of facts.
func parseCrashOrMarker(data []byte, sc *scratch) (*facts, []byte, error) {
	return parseCrashLines(data, sc, true)
}

// fullReportMarker is the line before the .ips in a paste of a report.
const fullReportMarker = "Full Report"

// parseCrashLines reads a text report line by line; with marker, it stops
// at a "Full Report" marker line followed by JSON and returns the JSON.
func parseCrashLines(data []byte, sc *scratch, marker bool) (*facts, []byte, error) {
	if bytes.IndexByte(data[:min(len(data), 4096)], 0) >= 0 {
		if marker {
			// Binary data is not read as text, but a paste's JSON is read
			// whatever precedes its marker.
			if js := fullReportJSON(data); js != nil {
				return nil, js, nil
			}
		}
		return nil, nil, fmt.Errorf("binary data: %w", ErrNotCrashReport)
	}
	p := sc.crashParser()
	// One pass over the lines, without regular expressions on the hot path:
	// most of a report is backtraces of threads that did not crash and the
	// list of binary images, which are skipped with a prefix test each.
	// The lines are read as strings without copying the report: data is
	// never written to after it was read, and every string that outlives
	// the parse goes through clean, which copies it.
	text := unsafe.String(unsafe.SliceData(data), len(data))
	for len(text) > 0 {
		if p.passingOver() {
			// A line the section passes over unread (a frame of a thread
			// that did not crash, an image of a report that is not
			// Python's: most of a report's lines) is told by its first
			// byte after the indentation, not trimmed and read as a line.
			// Any other line (blank, other indentation) is read below.
			j := 0
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			if j < len(text) && p.passesOver(text[j:]) {
				if i := strings.IndexByte(text[j:], '\n'); i >= 0 {
					text = text[j+i+1:]
				} else {
					text = ""
				}
				continue
			}
		}
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		t := strings.TrimSpace(line)
		if marker && len(t) == len(fullReportMarker) && t == fullReportMarker {
			if js := jsonAfterRules(data[len(data)-len(text):]); js != nil {
				return nil, js, nil
			}
		}
		p.line(t)
	}
	f, err := p.finish()
	return f, nil, err
}

// passingOver says whether the section's lines are passed over unread:
// the backtrace of a thread that did not crash (backtrace), the Binary
// Images of a report that is not Python's (image).
func (p *crashParser) passingOver() bool {
	return p.section == secThread && p.curThread != p.crashedThread || p.section == secImages && !p.pythonish
}

// passesOver says whether a line starting with s (its indentation cut) is
// one that line would pass over in the section passingOver holds for: a
// frame, or an image (which is seen).
func (p *crashParser) passesOver(s string) bool {
	if p.section == secThread {
		return s[0] >= '0' && s[0] <= '9'
	}
	if strings.HasPrefix(s, "0x") {
		p.sawImages = true
		return true
	}
	return false
}

// line reads one trimmed line in the section it belongs to.
func (p *crashParser) line(trimmed string) {
	if trimmed == "" {
		if p.section == secASI || p.section == secThread {
			p.section = secNone
		}
		return
	}
	switch p.section {
	case secImages:
		if strings.HasPrefix(trimmed, "0x") {
			p.image(trimmed)
			return
		}
		p.section = secNone
	case secThread:
		if c := trimmed[0]; c >= '0' && c <= '9' {
			p.backtrace(trimmed)
			return
		}
		if trimmed == "…" || trimmed == "..." {
			return
		}
		p.section = secNone
	}
	if strings.HasPrefix(trimmed, "Thread ") {
		if n, crashed, ok := threadHeader(trimmed); ok {
			p.threadStart(n, crashed)
			return
		}
	}
	switch {
	case strings.HasPrefix(trimmed, "Application Specific Information:"):
		p.section = secASI
		if rest := strings.TrimSpace(trimmed[len("Application Specific Information:"):]); rest != "" {
			p.f.asi = append(p.f.asi, rest)
		}
		return
	case strings.HasPrefix(trimmed, "Binary Images:"):
		p.imagesStart()
		return
	}
	key, val, isKV := keyValue(trimmed)
	if p.section == secASI {
		if isKV && !strings.Contains(trimmed, "objc[") && isHeaderKey(trimmed) {
			p.section = secNone
		} else {
			p.f.asi = append(p.f.asi, trimmed)
			return
		}
	}
	if isKV {
		p.header(key, val)
	}
}

// threadStart begins a thread's backtrace ("Thread 3 Crashed::").
func (p *crashParser) threadStart(n int, crashed bool) {
	p.curThread = n
	p.section = secThread
	if crashed {
		p.crashedThread = n
		p.f.crashed = p.f.crashed[:0]
		p.markers++
	}
}

// backtrace reads a frame line; only the crashed thread's are kept.
func (p *crashParser) backtrace(line string) {
	if p.curThread != p.crashedThread {
		return
	}
	if fr, ok := parseFrame(line); ok {
		p.f.crashed = append(p.f.crashed, fr)
	}
}

// imagesStart begins the Binary Images list. By then the header and the
// crashed thread are read, so it is known whether the process is Python:
// only a Python crash is attributed, so only its image list is read.
func (p *crashParser) imagesStart() {
	f := p.f
	p.section = secImages
	p.pythonish = IsPythonName(f.process) || strings.Contains(f.exePath, "Python") || f.bundleID == "org.python.python"
	for _, fr := range f.crashed {
		if isLibPython(fr.image) {
			p.pythonish = true
		}
	}
}

// image reads one line of the Binary Images list. Most images are the
// system's and say nothing: it parses only those the crashed thread runs
// in or that name the interpreter, an environment or a tool.
func (p *crashParser) image(line string) {
	p.sawImages = true
	if !p.pythonish {
		return
	}
	if !p.namesRead {
		p.namesRead = true
		if p.crashedNames == nil {
			p.crashedNames = map[string]bool{}
		}
		for _, fr := range p.f.crashed {
			if !isSystemImage(fr.image) || isLibPython(fr.image) {
				p.crashedNames[fr.image] = true
			}
		}
	}
	if !p.crashedNames[imageLineName(line)] && !hasImageNeedle(line) {
		return
	}
	if name, path := binaryImage(line); path != "" && !isSystemPath(path) {
		p.f.images = append(p.f.images, path)
		if p.imageByName == nil {
			p.imageByName = map[string]string{}
		}
		p.imageByName[name] = path
	}
}

// header reads one "Key: value" line of the report's header.
func (p *crashParser) header(key, val string) {
	f := p.f
	switch key {
	case "Process":
		p.markers++
		f.process, f.pid = nameAndPID(val)
	case "Path":
		f.exePath = val
	case "Version":
		f.appVersion = val
	case "Identifier":
		if strings.Contains(val, ".") {
			f.bundleID = val
		}
	case "Incident Identifier":
		f.incident = val
	case "Parent Process":
		f.parent, f.parentPID = nameAndPID(val)
	case "User ID":
		// A number, or "omitted" in reports shared without it.
		if n, err := strconv.ParseInt(val, 10, 64); err == nil && n >= 0 {
			f.userID, f.hasUserID = n, true
		}
	case "Responsible":
		f.responsible, _ = nameAndPID(val)
	case "Date/Time":
		f.time = val
	case "OS Version":
		f.osVersion = val
	case "Exception Type":
		p.markers++
		// "EXC_CRASH (SIGABRT)", or on OS X 10.8 just "SIGSEGV". A
		// wrapped paste can run on into the next key.
		if first, sig, ok := exceptionParts(val); ok {
			if sig != "" {
				f.exception, f.signal = first, sig
			} else if strings.HasPrefix(first, "SIG") {
				f.signal = first
			} else {
				f.exception = first
			}
		}
	case "Termination Reason":
		p.markers++
		f.termNS, f.termCode = terminationParts(val)
	case "Crashed Thread":
		p.markers++
		first := val // the first word (val is trimmed), without strings.Fields' slice
		if i := strings.IndexFunc(val, unicode.IsSpace); i >= 0 {
			first = val[:i]
		}
		if n, err := strconv.Atoi(first); err == nil {
			p.crashedThread = n
		}
	}
}

// finish checks that the text was a crash report and fills in what needs
// the whole of it: the crashed frames' image paths, a process name from the
// backtrace where the header had none, and whether the report is complete.
func (p *crashParser) finish() (*facts, error) {
	f := p.f
	if p.markers == 0 {
		return nil, fmt.Errorf("no crash report fields: %w", ErrNotCrashReport)
	}
	for i := range f.crashed {
		if path, ok := p.imageByName[f.crashed[i].image]; ok {
			f.crashed[i].path = path
		}
	}
	if f.process == "" {
		if name := guessProcess(f.crashed); name != "" {
			f.process, f.processGuess = name, true
		}
	}
	// A complete text report ends with its list of binary images.
	f.partial = !p.sawImages
	return f, nil
}

// parseFrame splits a backtrace line "12  libobjc.A.dylib  0x7ff... symbol + 44"
// into image and symbol.
func parseFrame(line string) (frame, bool) {
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == 0 || i == len(line) || (line[i] != ' ' && line[i] != '\t') {
		return frame{}, false
	}
	rest := line[i:]
	// The address is the first whitespace-led "0x" token after the image
	// name (which may itself hold spaces).
	for j := 1; j+2 < len(rest); j++ {
		if rest[j] == '0' && rest[j+1] == 'x' && (rest[j-1] == ' ' || rest[j-1] == '\t') {
			image := strings.TrimSpace(rest[:j])
			sym := rest[j:]
			if k := strings.IndexAny(sym, " \t"); k >= 0 {
				sym = strings.TrimSpace(sym[k:])
			} else {
				sym = ""
			}
			if image == "" {
				return frame{}, false
			}
			return frame{image: image, symbol: sym}, true
		}
	}
	return frame{}, false
}

// exceptionParts reads an "Exception Type" value as the pattern
// ^(\S+)(?:\s+\((\w+)\))? would (its first word, and the word in
// parentheses after it, if any), without a regexp: it is read for every
// text report. \s is RE2's [\t\n\f\r ], \w is [0-9A-Za-z_]; \S+ is
// greedy and what follows it must start with a space, so it never gives
// back a byte. ok is false when the value does not start with a non-space.
func exceptionParts(val string) (first, sig string, ok bool) {
	i := 0
	for i < len(val) && !isRE2Space(val[i]) {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	j := i
	for j < len(val) && isRE2Space(val[j]) {
		j++
	}
	if j > i && j < len(val) && val[j] == '(' {
		k := j + 1
		for k < len(val) && isWordByte(val[k]) {
			k++
		}
		if k > j+1 && k < len(val) && val[k] == ')' {
			sig = val[j+1 : k]
		}
	}
	return val[:i], sig, true
}

func isRE2Space(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// nameAndPID splits "Python [13106]" into name and pid.
func nameAndPID(v string) (string, int) {
	v = strings.TrimSpace(v)
	if strings.HasSuffix(v, "]") {
		if i := strings.LastIndexByte(v, '['); i >= 0 {
			if pid, err := strconv.Atoi(v[i+1 : len(v)-1]); err == nil && pid >= 0 {
				return strings.TrimSpace(v[:i]), pid
			}
		}
	}
	return v, 0
}

// threadHeader parses "Thread 5 Crashed::  Dispatch queue: ..." or
// "Thread 0:" and says whether it is the crashed thread.
func threadHeader(line string) (n int, crashed, ok bool) {
	rest := line[len("Thread "):]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i > 6 {
		return 0, false, false
	}
	n, _ = strconv.Atoi(rest[:i])
	rest = rest[i:]
	if strings.HasPrefix(rest, " Crashed") {
		crashed, rest = true, rest[len(" Crashed"):]
	}
	return n, crashed, strings.HasPrefix(rest, ":")
}

// keyValue splits a header line "Key:   value" (the key starts with a
// capital letter and holds letters, spaces and slashes).
func keyValue(line string) (key, val string, ok bool) {
	if line == "" || line[0] < 'A' || line[0] > 'Z' {
		return "", "", false
	}
	i := strings.IndexByte(line, ':')
	if i <= 0 || i+1 >= len(line) || (line[i+1] != ' ' && line[i+1] != '\t') {
		return "", "", false
	}
	for _, c := range line[:i] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == ' ' || c == '/') {
			return "", "", false
		}
	}
	return line[:i], strings.TrimSpace(line[i+1:]), true
}

// isHeaderKey reports whether a "Key: value" line inside the application
// specific information is really the next header (wrapped pastes).
func isHeaderKey(line string) bool {
	for _, k := range []string{"Thread ", "Backtrace", "Last Exception", "Crashed Thread", "Exception ", "Termination ", "Binary Images", "External Modification", "VM Region"} {
		if strings.HasPrefix(line, k) {
			return true
		}
	}
	return false
}

// guessProcess names the process from the first non-system image of the
// crashed thread, for excerpts that start below the header.
func guessProcess(frames []frame) string {
	for _, fr := range frames {
		if isSystemImage(fr.image) {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(fr.image, ".dylib"), ".debug")
		return name
	}
	return ""
}

func isSystemImage(name string) bool {
	if name == "" || name == "???" || name == "dyld" || strings.HasPrefix(name, "lib") || strings.HasPrefix(name, "com.apple.") {
		return true
	}
	switch name {
	case "CoreFoundation", "Foundation", "AppKit", "HIToolbox", "SkyLight", "Metal", "IOGPU", "CoreGraphics", "Security", "CFNetwork", "SystemConfiguration", "QuartzCore":
		return true
	}
	return false
}

// imageLineName returns the image name of a "Binary Images" line
// ("0x1 - 0x2 +name ...") without allocating; "" if the layout differs.
func imageLineName(line string) string {
	i := strings.Index(line, " - ")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(line[i+3:], " ")
	j := strings.IndexByte(rest, ' ')
	if j < 0 {
		return ""
	}
	rest = strings.TrimLeft(rest[j:], " +")
	if k := strings.IndexByte(rest, ' '); k >= 0 {
		rest = rest[:k]
	}
	return rest
}

// imageNeedles mark the loaded images that tell the interpreter, the
// environment or the tool (see interpreterOf, envOf, frameworkFromReport).
// The interpreter library of a framework build ends in "/Python".
var imageNeedles = []string{"site-packages", "libpython", "_multiprocessing", "uwsgi", "venvs", "Cellar/ansible", "Cellar/celery", "Cellar/apache-airflow"}

func hasImageNeedle(s string) bool {
	if strings.HasSuffix(s, "/Python") {
		return true
	}
	for _, n := range imageNeedles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// binaryImage splits a "Binary Images" line,
// "0x104d80000 - 0x104d83fff _setproctitle.cpython-312-darwin.so (*) <uuid> /path",
// into the image's name and path. Paths may hold spaces; the path starts
// after the UUID in brackets, or else at the first " /".
func binaryImage(line string) (name, path string) {
	if i := strings.LastIndex(line, "> /"); i >= 0 {
		path = line[i+2:]
	} else if i := strings.Index(line, " /"); i >= 0 {
		path = line[i+1:]
	}
	path = strings.TrimSpace(path)
	fs := strings.Fields(line)
	// 0xSTART - 0xEND NAME ... (older layouts: 0xSTART-0xEND)
	for i, f := range fs {
		if i > 0 && strings.HasPrefix(f, "0x") && i+1 < len(fs) {
			name = strings.TrimPrefix(fs[i+1], "+")
			break
		}
	}
	if name == "" || strings.HasPrefix(name, "/") {
		name = pathBase(path)
	}
	return name, path
}

func pathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
