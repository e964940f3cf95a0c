package report

import (
	"bytes"
	"fmt"
)

// PeekSize is how much of a report Peek looks at: the .ips header line and
// the first members of its body, or a text report's header block.
const PeekSize = 16 << 10

// Peek decides from the start of a report, before it is read whole, what
// reading it needs. It returns:
//   - the crash ID that Parse would give the report, when the start alone
//     shows it (the incident id: the .ips body's "incident" member among
//     its first lines, or a text report's "Incident Identifier:" line), so
//     that a sweep skips a report already in the store without reading or
//     parsing the rest; "" when the start does not show it;
//   - the verdict, when the start alone decides it: an error wrapping
//     ErrOtherDiagnostic for an .ips whose header names another kind of
//     diagnostic (the same error Parse returns), nil otherwise.
//
// It allocates only for what it returns.
func Peek(prefix []byte) (id string, verdict error) {
	t := bytes.TrimLeft(prefix, " \t\r\n\ufeff")
	if len(t) == 0 {
		return "", nil
	}
	if t[0] == '{' {
		line, body, complete := bytes.Cut(t, []byte("\n"))
		if !complete {
			return "", nil
		}
		if bt, ok := memberString(line, "bug_type"); ok && !crashBugTypes[string(bt)] {
			// The exact check Parse makes, on the header line only.
			var hdr ipsHeader
			if err := decodeHeader(line, &hdr); err == nil && hdr.BugType != "" && !crashBugTypes[hdr.BugType] {
				return "", fmt.Errorf("diagnostic of bug_type %s, not a crash: %w", hdr.BugType, ErrOtherDiagnostic)
			}
			return "", nil
		}
		// The body's "incident" wins over the header's incident_id in
		// Parse: only an id read from the body is the report's ID. Apple
		// writes it among the first members.
		for i := 0; i < 24 && len(body) > 0; i++ {
			var l []byte
			l, body = nextLine(body)
			if len(l) == 1 && l[0] == '}' {
				break
			}
			key, val, ok := memberLine(l)
			if !ok || string(key) != "incident" {
				continue
			}
			if len(val) > 2 && val[0] == '"' && val[len(val)-1] == '"' && isIncident(val[1:len(val)-1]) {
				return "incident:" + string(val[1:len(val)-1]), nil
			}
			return "", nil
		}
		return "", nil
	}
	// A text report: "Incident Identifier: UUID" is its first line.
	line, _ := nextLine(t)
	if v, ok := bytes.CutPrefix(line, []byte("Incident Identifier:")); ok {
		v = bytes.TrimSpace(v)
		if isIncident(v) {
			return "incident:" + string(v), nil
		}
	}
	return "", nil
}

// memberString finds "key":"value" in a compact JSON line (the .ips
// header) and returns value when it holds no escape.
func memberString(line []byte, key string) ([]byte, bool) {
	i := bytes.Index(line, []byte(`"`+key+`"`))
	if i < 0 {
		return nil, false
	}
	rest := bytes.TrimLeft(line[i+len(key)+2:], " ")
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = bytes.TrimLeft(rest[1:], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || bytes.IndexByte(rest[1:1+end], '\\') >= 0 {
		return nil, false
	}
	return rest[1 : 1+end], true
}

// isIncident accepts what an incident id looks like (a UUID: hex digits
// and dashes), so that nothing odd is taken for one.
func isIncident(v []byte) bool {
	if len(v) < 8 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}

// PeekParent returns the parent pid a report's start names (the .ips
// body's "parentPid" member among its first lines, or a text report's
// "Parent Process: name [pid]" header line), or 0. It is a hint for work
// that can start before the report is parsed (attribution reads the
// parent's process entry meanwhile): Parse's ParentPID is the word.
func PeekParent(prefix []byte) int {
	t := bytes.TrimLeft(prefix, " \t\r\n\ufeff")
	if len(t) > 0 && t[0] == '{' {
		_, body, complete := bytes.Cut(t, []byte("\n"))
		if !complete {
			return 0
		}
		for i := 0; i < 64 && len(body) > 0; i++ {
			var l []byte
			l, body = nextLine(body)
			if key, val, ok := memberLine(l); ok && string(key) == "parentPid" {
				if n, ok := plainInt(val); ok && n > 0 {
					return n
				}
				return 0
			}
		}
		return 0
	}
	for i := 0; i < 40 && len(t) > 0; i++ {
		var l []byte
		l, t = nextLine(t)
		if v, ok := bytes.CutPrefix(l, []byte("Parent Process:")); ok {
			_, pid := nameAndPID(string(v))
			return pid
		}
	}
	return 0
}
