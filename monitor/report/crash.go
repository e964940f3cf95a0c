package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unsafe"
)

// The legacy text layout (macOS 10.13-11 .crash files, and the "Translated
// Report" Console shows for a .ips): "Key:   value" header lines, then
// "Application Specific Information:", the threads ("Thread 0 Crashed::"),
// thread state and "Binary Images:".

var (
	reException  = regexp.MustCompile(`^(\S+)(?:\s+\((\w+)\))?`)
	reTermReason = regexp.MustCompile(`Namespace\s+([A-Za-z_]+),\s*Code\s+(\S+)`)
)

func parseCrash(data []byte) (*facts, error) {
	if bytes.IndexByte(data[:min(len(data), 4096)], 0) >= 0 {
		return nil, fmt.Errorf("binary data: %w", ErrNotCrashReport)
	}
	f := &facts{format: FormatCrash}
	const (
		secNone = iota
		secASI
		secThread
		secImages
	)
	var (
		section       = secNone
		crashedThread = -1
		sawImages     bool
		markers       int // lines that only a crash report has
		curThread     = -1
		imageByName   map[string]string // Binary Images outside the system folders
		crashedNames  map[string]bool   // images the crashed thread runs in
		pythonish     bool              // the report so far names a Python process
	)
	// One pass over the lines, without regular expressions on the hot path:
	// most of a report is backtraces of threads that did not crash and the
	// list of binary images, which are skipped with a prefix test each.
	// The lines are read as strings without copying the report: data is
	// never written to after it was read, and every string that outlives
	// the parse goes through clean, which copies it.
	text := unsafe.String(unsafe.SliceData(data), len(data))
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			if section == secASI || section == secThread {
				section = secNone
			}
			continue
		}
		switch section {
		case secImages:
			if strings.HasPrefix(trimmed, "0x") {
				sawImages = true
				// Most images are the system's and say nothing: parse only
				// those the crashed thread runs in or that name the
				// interpreter, an environment or a tool.
				if !pythonish {
					// Only a Python crash is attributed: the image list of
					// any other process is passed over.
					continue
				}
				if crashedNames == nil {
					crashedNames = map[string]bool{}
					for _, fr := range f.crashed {
						if !isSystemImage(fr.image) || isLibPython(fr.image) {
							crashedNames[fr.image] = true
						}
					}
				}
				if !crashedNames[imageLineName(trimmed)] && !hasImageNeedle(trimmed) {
					continue
				}
				if name, p := binaryImage(trimmed); p != "" && !isSystemPath(p) {
					f.images = append(f.images, p)
					if imageByName == nil {
						imageByName = map[string]string{}
					}
					imageByName[name] = p
				}
				continue
			}
			section = secNone
		case secThread:
			if c := trimmed[0]; c >= '0' && c <= '9' {
				if curThread == crashedThread {
					if fr, ok := parseFrame(trimmed); ok {
						f.crashed = append(f.crashed, fr)
					}
				}
				continue
			}
			if trimmed == "…" || trimmed == "..." {
				continue
			}
			section = secNone
		}
		if strings.HasPrefix(trimmed, "Thread ") {
			if n, crashed, ok := threadHeader(trimmed); ok {
				curThread = n
				section = secThread
				if crashed {
					crashedThread = n
					f.crashed = f.crashed[:0]
					markers++
				}
				continue
			}
		}
		switch {
		case strings.HasPrefix(trimmed, "Application Specific Information:"):
			section = secASI
			if rest := strings.TrimSpace(trimmed[len("Application Specific Information:"):]); rest != "" {
				f.asi = append(f.asi, rest)
			}
			continue
		case strings.HasPrefix(trimmed, "Binary Images:"):
			section = secImages
			pythonish = rePythonName.MatchString(f.process) || strings.Contains(f.exePath, "Python") || f.bundleID == "org.python.python"
			for _, fr := range f.crashed {
				if isLibPython(fr.image) {
					pythonish = true
				}
			}
			continue
		}
		key, val, isKV := keyValue(trimmed)
		if section == secASI {
			if isKV && !strings.Contains(trimmed, "objc[") && isHeaderKey(trimmed) {
				section = secNone
			} else {
				f.asi = append(f.asi, trimmed)
				continue
			}
		}
		if !isKV {
			continue
		}
		switch key {
		case "Process":
			markers++
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
			if n, err := strconv.Atoi(val); err == nil && n >= 0 {
				f.userID = strconv.Itoa(n)
			}
		case "Responsible":
			f.responsible, _ = nameAndPID(val)
		case "Date/Time":
			f.time = val
		case "OS Version":
			f.osVersion = val
		case "Exception Type":
			markers++
			// "EXC_CRASH (SIGABRT)", or on OS X 10.8 just "SIGSEGV". A
			// wrapped paste can run on into the next key.
			if em := reException.FindStringSubmatch(val); em != nil {
				if em[2] != "" {
					f.exception, f.signal = em[1], em[2]
				} else if strings.HasPrefix(em[1], "SIG") {
					f.signal = em[1]
				} else {
					f.exception = em[1]
				}
			}
		case "Termination Reason":
			markers++
			if tm := reTermReason.FindStringSubmatch(val); tm != nil {
				f.termNS, f.termCode = tm[1], tm[2]
			}
		case "Crashed Thread":
			markers++
			if fs := strings.Fields(val); len(fs) > 0 {
				if n, err := strconv.Atoi(fs[0]); err == nil {
					crashedThread = n
				}
			}
		}
	}
	if markers == 0 {
		return nil, fmt.Errorf("no crash report fields: %w", ErrNotCrashReport)
	}
	for i := range f.crashed {
		if p, ok := imageByName[f.crashed[i].image]; ok {
			f.crashed[i].path = p
		}
	}
	if f.process == "" {
		if name := guessProcess(f.crashed); name != "" {
			f.process, f.processGuess = name, true
		}
	}
	// A complete text report ends with its list of binary images.
	f.partial = !sawImages
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
// environment or the tool (see interpreterOf, envOf, frameworkFromImages).
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
