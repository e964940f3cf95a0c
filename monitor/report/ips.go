package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"
)

// The .ips layout (Apple, "Interpreting the JSON format of a crash report",
// developer.apple.com/documentation/xcode): one line of JSON metadata, then a
// JSON body. The body is a crash report when the header's bug_type is "309";
// older .ips files (bug_type "109") carry a plain-text report after the header.

type ipsHeader struct {
	AppName   string `json:"app_name"`
	Name      string `json:"name"`
	BugType   string `json:"bug_type"`
	OSVersion string `json:"os_version"`
	Incident  string `json:"incident_id"`
	Timestamp string `json:"timestamp"`
	BundleID  string `json:"bundleID"`
	Version   string `json:"app_version"`
}

type ipsBody struct {
	PID         int    `json:"pid"`
	ProcName    string `json:"procName"`
	ProcPath    string `json:"procPath"`
	ParentProc  string `json:"parentProc"`
	ParentPID   int    `json:"parentPid"`
	UserID      *int   `json:"userID"`
	Responsible string `json:"responsibleProc"`
	Incident    string `json:"incident"`
	CaptureTime string `json:"captureTime"`
	BugType     string `json:"bug_type"`
	BundleInfo  struct {
		ID      string `json:"CFBundleIdentifier"`
		Version string `json:"CFBundleShortVersionString"`
	} `json:"bundleInfo"`
	OSVersion struct {
		Train string `json:"train"`
		Build string `json:"build"`
	} `json:"osVersion"`
	Exception struct {
		Type   string `json:"type"`
		Signal string `json:"signal"`
	} `json:"exception"`
	Termination *struct {
		Namespace string          `json:"namespace"`
		Code      json.RawMessage `json:"code"`
	} `json:"termination"`
	ASI            map[string][]string `json:"asi"`
	FaultingThread *int                `json:"faultingThread"`
	Threads        []ipsThread         `json:"threads"`
	UsedImages     []struct {
		Name string `json:"name"`
		Path string `json:"path"`
	} `json:"usedImages"`
	imagesRaw [][]byte // usedImages, split but not decoded
	// imagePathsRaw holds, beside imagesRaw, each image's "path" value
	// (a JSON string, quotes included) as splitImageLines found it on its
	// own line, or nil where it found none (or nil altogether).
	imagePathsRaw [][]byte
	imageMemo     map[int]string // names decoded so far
	text          []byte         // room for unescaped strings (unescapeSlashes)
	ints          [2]int         // room for UserID and FaultingThread (plainIntInto)
}

type ipsThread struct {
	Triggered bool       `json:"triggered"`
	Frames    []ipsFrame `json:"frames"`
}

type ipsFrame struct {
	Symbol     string `json:"symbol"`
	ImageIndex int    `json:"imageIndex"`
}

// crashedThread picks the thread marked "triggered", or the faultingThread.
func crashedThread(b *ipsBody) []ipsFrame {
	for _, t := range b.Threads {
		if t.Triggered {
			return t.Frames
		}
	}
	if b.FaultingThread != nil && *b.FaultingThread >= 0 && *b.FaultingThread < len(b.Threads) {
		return b.Threads[*b.FaultingThread].Frames
	}
	return nil
}

// crashBugTypes are the header bug_types that hold a crash. Others in the same
// folders (jetsam 298, hangs 409, stackshots 288, panics 210, ...) are skipped.
var crashBugTypes = map[string]bool{"309": true, "109": true}

// looksLikeIPS tells the two formats apart: a .ips starts with a JSON object,
// or (an excerpt of a body) with top-level "key" : value lines.
func looksLikeIPS(data []byte) bool {
	if startsWithBrace(data) {
		return true
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	_, _, ok := memberLine(bytes.TrimRight(line, "\r"))
	return ok
}

// startsWithBrace says whether data starts with '{' after blank space and
// a byte order mark: an .ips as ReportCrash writes it.
func startsWithBrace(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

func parseIPS(data []byte, sc *scratch) (*facts, error) {
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		data = t
	} else {
		// An excerpt of a body: keep the first line's indentation.
		data = bytes.TrimLeft(data, "\r\n")
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("blank: %w", ErrIncomplete)
	}
	// The header is the scratch's: decoded through a closure, a local one
	// escaped to the heap, an allocation per report.
	sc.hdr = ipsHeader{}
	hdr := &sc.hdr
	body := data
	if data[0] == '{' {
		line, rest, found := bytes.Cut(data, []byte("\n"))
		if err := decodeHeader(line, hdr); err != nil {
			if !found || isTruncation(err) {
				return nil, fmt.Errorf("header line: %w", ErrIncomplete)
			}
			// A single JSON document without a header line is not what
			// ReportCrash writes.
			return nil, fmt.Errorf("header line is not JSON (%v): %w", err, ErrNotCrashReport)
		}
		if hdr.BugType != "" && !crashBugTypes[hdr.BugType] {
			return nil, fmt.Errorf("diagnostic of bug_type %s, not a crash: %w", hdr.BugType, ErrOtherDiagnostic)
		}
		body = bytes.TrimLeft(rest, " \t\r\n")
		if len(body) == 0 {
			return nil, fmt.Errorf("header without body: %w", ErrIncomplete)
		}
		if body[0] != '{' {
			// Older .ips: a header line, then the text layout.
			f, err := parseCrash(body, sc)
			if f != nil {
				f.format = FormatIPS
				fillFromHeader(f, hdr)
			}
			return f, err
		}
	}

	b := sc.ipsBody()
	var thread []ipsFrame
	found, complete, err := parseBodyLines(body, b, &thread)
	partial := !complete
	switch {
	case err != nil:
		return nil, fmt.Errorf("body: %v: %w", err, ErrNotCrashReport)
	case found == 0 && body[0] == '{':
		// Not pretty-printed: decode the document as a whole.
		err := decodeStrict(body, b)
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			err = nil // a member of an unexpected type: the others were decoded
		}
		if err != nil && !isTruncation(err) {
			return nil, fmt.Errorf("body: %v: %w", err, ErrNotCrashReport)
		}
		partial = err != nil
		thread = crashedThread(b)
	case found == 0:
		return nil, fmt.Errorf("body stops before any field: %w", ErrIncomplete)
	}
	if b.BugType != "" && !crashBugTypes[b.BugType] {
		return nil, fmt.Errorf("diagnostic of bug_type %s, not a crash: %w", b.BugType, ErrOtherDiagnostic)
	}
	f := sc.facts()
	crashed, asi := f.crashed[:0], f.asi[:0]
	*f = facts{
		crashed:     crashed,
		asi:         asi,
		format:      FormatIPS,
		process:     b.ProcName,
		pid:         b.PID,
		parent:      b.ParentProc,
		parentPID:   b.ParentPID,
		responsible: b.Responsible,
		exePath:     b.ProcPath,
		bundleID:    b.BundleInfo.ID,
		time:        b.CaptureTime,
		exception:   b.Exception.Type,
		signal:      b.Exception.Signal,
		partial:     partial,
		incident:    b.Incident,
	}
	if b.UserID != nil && *b.UserID >= 0 {
		f.userID, f.hasUserID = int64(*b.UserID), true
	}
	if b.OSVersion.Train != "" {
		f.osVersion = strings.TrimSpace(b.OSVersion.Train + " (" + b.OSVersion.Build + ")")
	}
	if t := b.Termination; t != nil {
		f.termNS = t.Namespace
		f.termCode = strings.Trim(strings.TrimSpace(string(t.Code)), `"`)
	}
	for _, lines := range b.ASI {
		f.asi = append(f.asi, lines...)
	}
	for _, fr := range thread {
		f.crashed = append(f.crashed, frame{image: b.imageName(fr.ImageIndex), symbol: fr.Symbol, path: b.imagePath(fr.ImageIndex)})
	}
	f.images = b.imagePaths()
	f.appVersion = b.BundleInfo.Version
	fillFromHeader(f, hdr)
	if f.process == "" && f.pid == 0 && f.exePath == "" && f.exception == "" && len(f.asi) == 0 {
		if partial {
			return nil, fmt.Errorf("no crash fields in what was read: %w", ErrIncomplete)
		}
		return nil, fmt.Errorf("JSON without crash fields: %w", ErrNotCrashReport)
	}
	return f, nil
}

// fillFromHeader fills what the body left empty from the metadata line.
func fillFromHeader(f *facts, h *ipsHeader) {
	if f.process == "" {
		f.process = h.Name
		if f.process == "" {
			f.process = h.AppName
		}
	}
	if f.osVersion == "" {
		f.osVersion = h.OSVersion
	}
	if f.time == "" {
		f.time = h.Timestamp
	}
	if f.bundleID == "" {
		f.bundleID = h.BundleID
	}
	if f.appVersion == "" {
		f.appVersion = h.Version
	}
	if f.incident == "" {
		f.incident = h.Incident
	}
}

// decodeStrict decodes exactly one JSON value from data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// isTruncation reports whether a JSON error means "the input stopped early"
// rather than "the input is not JSON".
func isTruncation(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var se *json.SyntaxError
	return errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end of JSON input")
}

// parseBodyLines reads a pretty-printed .ips body line by line. Apple
// writes the body's top-level members one per line, with nested values on
// that same line (or, for a few small objects, over a few indented lines),
// so each member can be decoded on its own: a body cut short still gives the
// members written in full (complete is false until the closing brace), and
// of the large "threads" member only the crashed thread is decoded.
// found counts the members read; 0 means the body is not laid out so.
func parseBodyLines(body []byte, b *ipsBody, thread *[]ipsFrame) (found int, complete bool, err error) {
	var threadsRaw []byte
	imagesBad := false
	rest := body
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		if len(line) == 1 && line[0] == '}' {
			complete = true
			break
		}
		key, val, ok := memberLine(line)
		if !ok {
			continue
		}
		k := string(key)
		// usedImages is kept for a Python crash (its paths name the
		// interpreter, the environment and the module at fault) and for
		// a death after fork.
		wanted := b.member(k) != nil || k == "threads" || (k == "usedImages" && (pythonBody(b) || needFrames(b, threadsRaw)))
		if k == "usedImages" && wanted && len(val) > 0 && val[0] == '[' && cap(val) <= cap(body) {
			// The image list, one image over several lines: split it in
			// place, in one pass (val starts inside body, so the array
			// can be read on from there without gathering lines).
			start := cap(body) - cap(val)
			els, paths, end, ok := splitImageLines(body[start:], b.imagesRaw[:0], b.imagePathsRaw[:0])
			if !ok {
				els, end, ok = splitArrayEnd(body[start:])
				paths = nil
			}
			found++
			if !ok {
				imagesBad = true
				break // cut short inside the list
			}
			b.imagesRaw, b.imagePathsRaw = els, paths
			rest = body[start+end:]
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				rest = rest[i+1:]
			} else {
				rest = nil
			}
			continue
		}
		if depth := valueNesting(val, rest); depth > 0 {
			if !wanted {
				// Not needed: its inner lines are indented deeper than a
				// top-level member and would be passed over one by one by
				// the loop; jump to the next line that can matter (a
				// member line, or a line starting with the body's brace).
				rest = nextCandidate(rest)
				continue
			}
			// A value laid out over several lines (usedImages, osVersion):
			// gather lines until its brackets close. JSON strings cannot
			// hold a raw newline, so each line can be scanned on its own.
			var buf bytes.Buffer
			buf.Write(val)
			for depth > 0 && len(rest) > 0 {
				var l []byte
				l, rest = nextLine(rest)
				buf.Write(l)
				depth += nesting(l)
			}
			if depth != 0 {
				break // cut short inside the value
			}
			val = bytes.TrimSuffix(bytes.TrimSpace(buf.Bytes()), []byte(","))
		}
		found++
		switch k {
		case "threads":
			threadsRaw = val
			continue
		case "usedImages":
			if !wanted {
				continue
			}
			// Split now, decode only the images the crashed thread uses.
			if els, ok := splitArrayInto(b.imagesRaw, val); ok {
				b.imagesRaw = els
			} else {
				imagesBad = true
			}
			continue
		}
		if dst := b.member(k); dst != nil && !b.decodePlain(k, val) {
			// A member cut short or of an odd type is skipped, not fatal.
			b.decodeMember(val, dst)
		}
	}
	// The crashed thread's frames matter only for a death after fork(): to
	// see the Objective-C check's own frames, or to name a trigger. For any
	// other crash they are not decoded at all.
	forkFrames := threadsRaw != nil && needFrames(b, threadsRaw)
	if threadsRaw != nil && (forkFrames || pythonBody(b)) {
		// A death after fork needs every frame (the objc check's own
		// frames, a trigger); any other Python crash only the frames down
		// to the first one outside the system and the interpreter, to
		// name the module at fault.
		var stop func(ipsFrame) bool
		if !forkFrames {
			stop = func(fr ipsFrame) bool {
				p := b.imagePath(fr.ImageIndex)
				name := b.imageName(fr.ImageIndex)
				if p != "" {
					return !isSystemPath(p) && !isPythonRuntimeImage(name) && !isPythonRuntimeImage(pathBase(p))
				}
				return !isSystemImage(name) && !isPythonRuntimeImage(name)
			}
		}
		fr, ok := triggeredFrames(threadsRaw, b.FaultingThread, stop)
		if !ok || imagesBad {
			complete = false
		}
		*thread = fr
	}
	return found, complete, nil
}

// nextCandidate drops the lines at the start of rest that the member loop
// would pass over anyway: those that start neither with two spaces and a
// quote (a top-level member) nor with "}" (the body's end). Two vector
// searches instead of a look at each line of a long nested value.
func nextCandidate(rest []byte) []byte {
	if len(rest) > 0 && (rest[0] == '}' || bytes.HasPrefix(rest, []byte(`  "`))) {
		return rest
	}
	i := bytes.Index(rest, []byte("\n  \""))
	upto := rest
	if i >= 0 {
		upto = rest[:i]
	}
	if j := bytes.Index(upto, []byte("\n}")); j >= 0 {
		i = j
	}
	if i < 0 {
		return nil
	}
	return rest[i+1:]
}

// decodeMember decodes one member's value; plain strings and integers, most
// of a body's members, skip the reflection of encoding/json. A plain string
// is a view into val, or, with slashes to unescape, into the body's room
// for unescaped text: like the text parser's, the body's strings are read
// and Classify copies those it keeps (an executable's path was copied for
// the body, then again for the Report).
func (b *ipsBody) decodeMember(val []byte, dst any) {
	switch d := dst.(type) {
	case *string:
		if s, ok := b.quickString(val); ok {
			*d = s
			return
		}
	case *int:
		if n, ok := plainInt(val); ok {
			*d = n
			return
		}
	}
	_ = json.Unmarshal(val, dst)
}

// decodeString is decodeMember of a string value, returned rather than
// stored through an interface (which put a string on the heap for each
// image path decoded).
func (b *ipsBody) decodeString(val []byte) string {
	if s, ok := b.quickString(val); ok {
		return s
	}
	var s string
	_ = json.Unmarshal(val, &s)
	return s
}

// quickString decodes a JSON string with no escape but "\/" (paths are
// written with every slash escaped), without a decoder: ok is false for
// anything else.
func (b *ipsBody) quickString(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return "", false
	}
	inner := val[1 : len(val)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return unsafe.String(unsafe.SliceData(inner), len(inner)), true
	}
	if bytes.IndexByte(inner, '"') >= 0 {
		return "", false
	}
	return b.unescapeSlashes(inner)
}

// unescapeSlashes is unescapeSlashes into b.text, the body's room for
// unescaped text, kept from report to report by the scratch: a view, valid
// until the scratch is released (views made before the room grows keep the
// old block).
func (b *ipsBody) unescapeSlashes(s []byte) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 >= len(s) || s[i+1] != '/' {
				return "", false
			}
			i++
		}
	}
	start := len(b.text)
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			b.text = append(b.text, s...)
			break
		}
		b.text = append(b.text, s[:i]...)
		b.text = append(b.text, '/')
		s = s[i+2:]
	}
	v := b.text[start:]
	return unsafe.String(unsafe.SliceData(v), len(v)), true
}

// needFrames says whether the crashed thread must be decoded: the report
// names a fork in its application specific information, or some thread
// shows the Objective-C runtime's fork-child frames.
func needFrames(b *ipsBody, threadsRaw []byte) bool {
	for _, lines := range b.ASI {
		for _, l := range lines {
			if strings.Contains(strings.ToLower(l), "fork") {
				return true
			}
		}
	}
	if threadsRaw == nil {
		return true // not read yet: keep what may be needed
	}
	return containsForkFrame(threadsRaw)
}

// forkFrameSymbols are the symbols needFrames looks for in the threads:
// objcForkFrames and CoreFoundation's fork check.
var forkFrameSymbols = append(append([]string(nil), objcForkFrames...), cfForkSymbol)

// containsForkFrame says whether b holds one of forkFrameSymbols. It is
// the bytes.Contains of each, in one pass: every symbol has a capital F
// ("performFork...", "...AfterFork...", "..._HAS_FORKED..."), a byte rare
// in the threads' JSON, so the vector search for 'F' stops seldom, and at
// each stop every symbol is compared at its first F's offset. (Three
// bytes.Contains calls over the 10-50 KB of threads stopped at every 'p',
// 'o' and '_', and the CoreFoundation symbol is longer than the vector
// search takes, so bytes.Index ran it a byte at a time.)
func containsForkFrame(b []byte) bool {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], 'F')
		if j < 0 {
			return false
		}
		i += j
		for _, sym := range forkFrameSymbols {
			off := strings.IndexByte(sym, 'F')
			if i >= off && bytes.HasPrefix(b[i-off:], []byte(sym)) {
				return true
			}
		}
		i++
	}
	return false
}

// pythonBody says whether the body names a Python process: its crashed
// thread is decoded to name the extension module at fault.
func pythonBody(b *ipsBody) bool {
	return IsPythonName(b.ProcName) || b.BundleInfo.ID == "org.python.python" ||
		b.BundleInfo.ID == "com.apple.python3" || strings.Contains(b.ProcPath, "Python.framework/") ||
		strings.Contains(b.ProcPath, "Python3.framework/")
}

// nextLine cuts the first line (without its line ending) off b.
func nextLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line, rest = b[:i], b[i+1:]
	} else {
		line = b
	}
	return bytes.TrimRight(line, "\r"), rest
}

// valueNesting is nesting(val) for a member's value, without scanning a
// value that plainly closes on its own line: one that opens and ends with
// a matching bracket and is followed by the next top-level member or the
// body's closing brace. In valid JSON such a value cannot run on (the next
// line would continue it), and the "threads" member is one line of tens of
// kilobytes that would otherwise be scanned byte by byte only to find 0.
// Anything else, a body cut short within the value included (nothing
// follows it), is scanned.
func valueNesting(val, rest []byte) int {
	if len(val) >= 2 && val[0] == '"' && wholeString(val) {
		return 0 // one string (vmSummary's runs to kilobytes): no brackets outside it
	}
	if len(val) >= 2 && (val[0] == '[' && val[len(val)-1] == ']' || val[0] == '{' && val[len(val)-1] == '}') {
		next, _ := nextLine(rest)
		if len(next) == 1 && next[0] == '}' {
			return 0
		}
		if _, _, ok := memberLine(next); ok {
			return 0
		}
	}
	return nesting(val)
}

// nesting returns how many brackets and braces a line opens minus those it
// closes, outside strings.
func nesting(line []byte) int {
	d, inStr := 0, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			d++
		case '}', ']':
			d--
		}
	}
	return d
}

// memberLine splits `  "key" : value,` (two spaces of indent: top level).
func memberLine(line []byte) (key, val []byte, ok bool) {
	if len(line) < 8 || line[0] != ' ' || line[1] != ' ' || line[2] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(line[3:], '"')
	if end <= 0 {
		return nil, nil, false
	}
	key = line[3 : 3+end]
	rest := line[3+end+1:]
	if !bytes.HasPrefix(rest, []byte(" : ")) {
		return nil, nil, false
	}
	val = bytes.TrimSpace(rest[3:])
	val = bytes.TrimSuffix(val, []byte(","))
	return key, val, len(val) > 0
}

// member returns where a top-level member is decoded, or nil to skip it.
func (b *ipsBody) member(key string) any {
	switch key {
	case "pid":
		return &b.PID
	case "procName":
		return &b.ProcName
	case "procPath":
		return &b.ProcPath
	case "parentProc":
		return &b.ParentProc
	case "parentPid":
		return &b.ParentPID
	case "userID":
		return &b.UserID
	case "responsibleProc":
		return &b.Responsible
	case "incident":
		return &b.Incident
	case "captureTime":
		return &b.CaptureTime
	case "bug_type":
		return &b.BugType
	case "bundleInfo":
		return &b.BundleInfo
	case "osVersion":
		return &b.OSVersion
	case "exception":
		return &b.Exception
	case "termination":
		return &b.Termination
	case "asi":
		return &b.ASI
	case "faultingThread":
		return &b.FaultingThread
	}
	return nil
}

// triggeredFrames finds the crashed thread in the "threads" array without
// decoding the others.
// With stop set, frames are decoded one by one until stop says enough.
func triggeredFrames(raw []byte, faulting *int, stop func(ipsFrame) bool) ([]ipsFrame, bool) {
	var els [][]byte
	if stop != nil {
		// Only the crashed thread's first frames are wanted: walk the
		// threads one by one and stop at the triggered one. An array cut
		// short does not end with its bracket.
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[len(t)-1] != ']' {
			return nil, false
		}
		// The crashed thread is usually the first: its frames are read
		// straight from there, without scanning its register state.
		if i := skipSpace(raw, 0); i < len(raw) && raw[i] == '[' {
			j := skipSpace(raw, i+1)
			if bytes.Contains(raw[j:min(len(raw), j+40)], []byte(`"triggered":true`)) {
				if k := bytes.Index(raw[j:], []byte(`"frames":`)); k >= 0 {
					v := raw[j+k+len(`"frames":`):]
					return decodeFramesUntil(v[skipSpace(v, 0):], stop), true
				}
			}
		}
		els = lazyElements(raw, func(one []byte) bool {
			return bytes.Contains(one[:min(len(one), 40)], []byte(`"triggered":true`))
		})
	} else {
		var ok bool
		if els, ok = splitArray(raw); !ok {
			return nil, false
		}
	}
	var fallback []ipsFrame
	for i, one := range els {
		isFaulting := faulting != nil && *faulting == i
		if !bytes.Contains(one[:min(len(one), 40)], []byte(`"triggered":true`)) && !isFaulting {
			continue
		}
		// Decode the frames alone, not the thread's register state.
		var frames []ipsFrame
		if k := bytes.Index(one, []byte(`"frames":`)); k >= 0 {
			v := one[k+len(`"frames":`):]
			if end, ok := skipValue(v, skipSpace(v, 0)); ok {
				if stop != nil {
					frames = decodeFramesUntil(v[:end], stop)
				} else if frames, ok = decodeFrames(v[:end]); !ok {
					continue
				}
			}
		}
		if bytes.Contains(one[:min(len(one), 40)], []byte(`"triggered":true`)) {
			return frames, true
		}
		fallback = frames
	}
	return fallback, true
}

// imagePath returns the path of usedImages[i], or "".
func (b *ipsBody) imagePath(i int) string {
	if i >= 0 && i < len(b.UsedImages) {
		return b.UsedImages[i].Path
	}
	if i < 0 || i >= len(b.imagesRaw) {
		return ""
	}
	if pv := b.pathValue(i); pv != nil {
		return b.decodeString(pv)
	}
	return ""
}

// pathValue is usedImages[i]'s "path" value as a JSON string, or nil.
func (b *ipsBody) pathValue(i int) []byte {
	if i < len(b.imagePathsRaw) && b.imagePathsRaw[i] != nil {
		return b.imagePathsRaw[i]
	}
	return rawPathValue(b.imagesRaw[i])
}

// imagePaths lists the loaded images outside the system folders (those
// say nothing about the interpreter, the environment or the project).
func (b *ipsBody) imagePaths() []string {
	var out []string
	add := func(p string) {
		if p != "" && !isSystemPath(p) {
			out = append(out, p)
		}
	}
	for _, im := range b.UsedImages {
		add(im.Path)
	}
	var memo needleMemo
	for i := range b.imagesRaw {
		// Decode only the images that can tell the interpreter, the
		// environment or the tool (paths are JSON-escaped: "\/"); the
		// needles are looked for in the path member alone.
		pv := b.pathValue(i)
		if systemPathJSON(pv) {
			continue // add would drop it: no needle search, no decoding
		}
		if memo.has(pv) {
			add(b.decodeString(pv))
		}
	}
	return out
}

// hasImageNeedleJSON is hasImageNeedle for a path still JSON-escaped
// (quotes included). A JSON string holds a quote only escaped, so a path
// ending in "/Python" is one whose value ends so: a suffix test.
// The other needles are looked for in one pass over the path, by their
// first bytes, rather than with a bytes.Contains each (a dozen calls on a
// hundred-byte path, for each of the hundred images a Python crash lists).
func hasImageNeedleJSON(pv []byte) bool {
	if bytes.HasSuffix(pv, []byte(`/Python"`)) {
		return true
	}
	for i, c := range pv {
		for _, n := range imageNeedlesByFirst[c] {
			if bytes.HasPrefix(pv[i:], n) {
				return true
			}
		}
	}
	return false
}

// needleMemo is hasImageNeedleJSON for the images of one report, in order:
// an image's folder is most often the one before it (a Python crash lists
// a hundred extension modules, most in lib-dynload or one site-packages),
// and its answer is kept; only the bytes from a needle's length before the
// last slash to the end are searched anew. A needle that is not wholly in
// the folder part reaches into those bytes, so the answer is the same
// (TestNeedleMemoAgrees).
type needleMemo struct {
	dir    []byte // the folder part of the last path searched whole
	dirHas bool   // whether it holds a needle
}

func (m *needleMemo) has(pv []byte) bool {
	if bytes.HasSuffix(pv, []byte(`/Python"`)) {
		return true
	}
	cut := bytes.LastIndexByte(pv, '/')
	if cut < 0 {
		return hasImageNeedleJSON(pv)
	}
	if dir := pv[:cut]; m.dir == nil || !bytes.Equal(dir, m.dir) {
		m.dir, m.dirHas = dir, hasImageNeedleJSON(dir)
	}
	return m.dirHas || hasImageNeedleJSON(pv[max(0, cut-(imageNeedleMax-1)):])
}

// imageNeedleMax is the length of the longest of imageNeedlesJSON.
var imageNeedleMax = func() int {
	n := 0
	for _, b := range imageNeedlesJSON {
		n = max(n, len(b))
	}
	return n
}()

// imageNeedlesByFirst is imageNeedlesJSON by first byte. Read-only after
// start.
var imageNeedlesByFirst = func() (t [256][][]byte) {
	for _, n := range imageNeedlesJSON {
		t[n[0]] = append(t[n[0]], n)
	}
	return t
}()

// imageNeedlesJSON are imageNeedles as they appear in JSON, with and
// without escaped slashes. Read-only after start.
var imageNeedlesJSON = func() [][]byte {
	var out [][]byte
	for _, n := range imageNeedles {
		out = append(out, []byte(n))
		if strings.Contains(n, "/") {
			out = append(out, []byte(strings.ReplaceAll(n, "/", `\/`)))
		}
	}
	return out
}()

// rawPathValue returns the "path" member's JSON string, quotes included,
// or nil.
func rawPathValue(raw []byte) []byte {
	k := bytes.Index(raw, []byte(`"path"`))
	if k < 0 {
		return nil
	}
	i := skipSpace(raw, k+len(`"path"`))
	if i >= len(raw) || raw[i] != ':' {
		return nil
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] != '"' {
		return nil
	}
	end, ok := skipValue(raw, i)
	if !ok {
		return nil
	}
	return raw[i:end]
}

// systemPathJSON says whether a "path" member's JSON string (quotes
// included) certainly decodes to a path isSystemPath accepts.
func systemPathJSON(pv []byte) bool {
	for _, pre := range systemPathsJSON {
		if bytes.HasPrefix(pv, pre) {
			return true
		}
	}
	return false
}

// systemPathsJSON are isSystemPath's prefixes as JSON strings begin, with
// and without escaped slashes. Read-only after start.
var systemPathsJSON = func() [][]byte {
	var out [][]byte
	for _, p := range []string{"/System/", "/usr/lib/", "/Library/Apple/"} {
		out = append(out, []byte(`"`+p), []byte(`"`+strings.ReplaceAll(p, "/", `\/`)))
	}
	return out
}()

// splitImageLines splits the usedImages array as Apple pretty-prints it,
// by lines rather than byte by byte: raw starts at the array's "[" (alone
// on its line), each image starts with a line "  {", every line inside it
// is indented further, and it ends with a line "  }" or "  },"; the array
// ends with a line "]" or "],". Lines are found with IndexByte, and JSON
// strings cannot hold a raw newline, so only the start of each line is
// looked at. It returns the elements and the index just past the closing
// bracket, as splitArrayEnd does, or ok false for any other layout (the
// caller then uses splitArrayEnd). The elements are appended to els and
// the paths to paths (a parse's scratch). Beside each element it returns the
// value of its first line `    "path" : "..."` when that is one whole
// JSON string, else nil.
func splitImageLines(raw []byte, els, paths [][]byte) ([][]byte, [][]byte, int, bool) {
	nl := bytes.IndexByte(raw, '\n')
	if nl < 0 || string(bytes.TrimRight(raw[:nl], " \r")) != "[" {
		return nil, nil, 0, false
	}
	i := nl + 1     // start of the current line
	elem := -1      // start of the open element's "{", or -1
	comma := false  // the last image ended with "},"
	var path []byte // the open element's path value
	for i < len(raw) {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			clear(els)
			clear(paths)
			return nil, nil, 0, false // cut short
		}
		line := bytes.TrimRight(raw[i:i+j], "\r")
		switch {
		case elem < 0 && string(line) == "  {":
			elem, path = i+2, nil
		case elem >= 0 && (string(line) == "  }" || string(line) == "  },"):
			els = append(els, raw[elem:i+3])
			paths = append(paths, path)
			elem, comma = -1, len(line) == 4
		case elem >= 0 && len(line) > 4 && string(line[:4]) == "    ":
			// a member of the image
			if path == nil {
				const key = `    "path" : `
				if bytes.HasPrefix(line, []byte(key+`"`)) {
					pv := bytes.TrimSuffix(bytes.TrimRight(line[len(key):], " "), []byte(","))
					if wholeString(pv) {
						path = pv
					}
				}
			}
		case elem < 0 && len(els) > 0 && !comma && (string(line) == "]" || string(line) == "],"):
			return els, paths, i + 1, true
		default:
			clear(els)
			clear(paths)
			return nil, nil, 0, false
		}
		i += j + 1
	}
	clear(els)
	clear(paths)
	return nil, nil, 0, false
}

// wholeString says whether b is exactly one JSON string (quotes
// included), as skipValue(b, 0) == len(b) would, without looking at each
// byte: the first unescaped quote after the opening one must be the last
// byte. A quote with an odd run of backslashes before it is escaped; then
// skipValue decides.
func wholeString(b []byte) bool {
	if len(b) < 2 || b[0] != '"' {
		return false
	}
	q := bytes.IndexByte(b[1:], '"') + 1
	bs := 0
	for k := q - 1; k > 0 && b[k] == '\\'; k-- {
		bs++
	}
	if bs%2 == 0 {
		return q == len(b)-1
	}
	e, ok := skipValue(b, 0)
	return ok && e == len(b)
}

// isSystemPath says whether a loaded image is part of macOS itself.
func isSystemPath(p string) bool {
	return strings.HasPrefix(p, "/System/") || strings.HasPrefix(p, "/usr/lib/") || strings.HasPrefix(p, "/Library/Apple/")
}

// lazyElements returns the elements of a JSON array up to and including
// the first for which last is true, without scanning further.
func lazyElements(raw []byte, last func([]byte) bool) [][]byte {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil
	}
	i++
	var els [][]byte
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == ']' {
			return els
		}
		end, ok := skipValue(raw, i)
		if !ok {
			return els
		}
		els = append(els, raw[i:end])
		if last(raw[i:end]) {
			return els
		}
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i++
		}
	}
}

// decodeFramesUntil decodes a frames array element by element and stops
// after the frame for which stop is true.
// Elements are found one at a time, so frames past the stop are not even
// scanned.
func decodeFramesUntil(raw []byte, stop func(ipsFrame) bool) []ipsFrame {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil
	}
	i++
	var out []ipsFrame
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == ']' {
			return out
		}
		end, ok := skipValue(raw, i)
		if !ok {
			return out
		}
		if fr, ok := decodeFrame(raw[i:end]); ok {
			out = append(out, fr)
			if stop(fr) {
				return out
			}
		}
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i++
		}
	}
}

// imageName returns the name (or path) of usedImages[i], decoding only it.
func (b *ipsBody) imageName(i int) string {
	if i >= 0 && i < len(b.UsedImages) {
		if b.UsedImages[i].Name != "" {
			return b.UsedImages[i].Name
		}
		return b.UsedImages[i].Path
	}
	if i < 0 || i >= len(b.imagesRaw) {
		return ""
	}
	if name, ok := b.imageMemo[i]; ok {
		return name
	}
	if b.imageMemo == nil {
		b.imageMemo = map[int]string{}
	}
	name := ""
	defer func() { b.imageMemo[i] = name }()
	n, p, ok := decodeImage(b.imagesRaw[i])
	if !ok {
		return ""
	}
	name = n
	if name == "" {
		name = p
	}
	return name
}

// splitArray returns the elements of a JSON array as raw bytes, without
// decoding them: one pass that tracks strings and nesting. ok is false for
// anything that is not one whole array.
func splitArray(raw []byte) (els [][]byte, ok bool) { return splitArrayInto(nil, raw) }

// splitArrayInto is splitArray appending to dst[:0] (a scratch's slice,
// for its room): the .ips image list is split for each report. When raw is
// no array, it leaves no view of raw in dst's array.
func splitArrayInto(dst [][]byte, raw []byte) ([][]byte, bool) {
	els, ok := appendElements(dst[:0], raw)
	if !ok {
		clear(els)
		return nil, false
	}
	return els, true
}

// appendElements appends raw's elements to els; false when raw is no
// array (with what it appended so far).
func appendElements(els [][]byte, raw []byte) ([][]byte, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return els, false
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return els, false
		}
		if raw[i] == ']' && len(els) == 0 {
			return els, skipSpace(raw, i+1) == len(raw)
		}
		end, ok := skipValue(raw, i)
		if !ok {
			return els, false
		}
		els = append(els, raw[i:end])
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return els, false
		}
		switch raw[i] {
		case ',':
			i++
		case ']':
			return els, skipSpace(raw, i+1) == len(raw)
		default:
			return els, false
		}
	}
}

// splitArrayEnd is splitArray for an array followed by more data: it
// returns the elements and the index just past the closing bracket.
func splitArrayEnd(raw []byte) (els [][]byte, end int, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, 0, false
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return nil, 0, false
		}
		if raw[i] == ']' && len(els) == 0 {
			return els, i + 1, true
		}
		e, ok := skipValue(raw, i)
		if !ok {
			return nil, 0, false
		}
		els = append(els, raw[i:e])
		i = skipSpace(raw, e)
		if i >= len(raw) {
			return nil, 0, false
		}
		switch raw[i] {
		case ',':
			i++
		case ']':
			return els, i + 1, true
		default:
			return nil, 0, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i].
//
// A string is crossed with a vector search for its closing quote, and
// inside brackets a table passes over the bytes that cannot change the
// nesting: a fork child's one thread is kilobytes of register state and
// instruction bytes (numbers, commas, short keys), walked a byte at a time
// through a switch before (a third of the parse of such a report).
// TestSkipValueAgrees holds it to the byte-at-a-time walk.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			k, ok := stringEnd(b, j)
			if !ok {
				return 0, false
			}
			j = k
			if depth == 0 {
				return j + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j, j > i // end of a scalar
			}
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case ',':
			if depth == 0 {
				return j, j > i
			}
		default:
			if depth > 0 {
				for j+1 < len(b) && !nestingByte[b[j+1]] {
					j++
				}
			}
		}
	}
	return 0, false
}

// nestingByte marks the bytes that matter inside brackets, outside strings.
var nestingByte = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// stringEnd returns the index of the quote that closes the JSON string
// opening at b[open]: the first quote after it not escaped by an odd run
// of backslashes.
func stringEnd(b []byte, open int) (int, bool) {
	k := open + 1
	for {
		q := bytes.IndexByte(b[k:], '"')
		if q < 0 {
			return 0, false
		}
		k += q
		n := 0
		for m := k - 1; m > open && b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return k, true
		}
		k++
	}
}
