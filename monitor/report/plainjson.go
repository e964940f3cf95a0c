package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// The few JSON objects a sweep decodes by the thousand (the .ips header
// line, each frame of a crashed thread, each loaded image) are flat and
// plain: string and integer members, no escapes but "\/" in paths.
// encoding/json spends most of its time on them in reflection and in a
// validating pass before decoding. plainObject reads such an object in one
// pass and gives up (ok false) on anything it is not sure to read exactly
// as encoding/json would; the caller then decodes with encoding/json, so
// the result is always encoding/json's. FuzzPlainObjectAgreesWithJSON
// holds it to that.

// plainObject walks a JSON object (raw is the object and nothing else, as
// skipValue cuts it) whose members are all plain: a key without escapes,
// and a value that is a string with no escape but "\/" and no control
// character, a JSON integer, true, false or null. It calls member with each
// key and raw value; member returns false to give up. ok is false for any
// other object, including any invalid JSON.
func plainObject(raw []byte, member func(key, val []byte) bool) (ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return skipSpace(raw, i+1) == len(raw)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return false
		}
		end := plainString(raw, i)
		if end < 0 || bytes.IndexByte(raw[i:end], '\\') >= 0 {
			return false
		}
		key := raw[i+1 : end-1]
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipSpace(raw, i+1)
		vend := plainValue(raw, i)
		if vend < 0 || !member(key, raw[i:vend]) {
			return false
		}
		i = skipSpace(raw, vend)
		if i >= len(raw) {
			return false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			return skipSpace(raw, i+1) == len(raw)
		default:
			return false
		}
	}
}

// plainString returns the end (past the closing quote) of the string at
// raw[i], or -1 unless it is valid UTF-8 with no control character and no
// escape but "\/".
func plainString(raw []byte, i int) int {
	j := i + 1
	for j < len(raw) {
		c := raw[j]
		switch {
		case c == '"':
			if !utf8.Valid(raw[i+1 : j]) {
				return -1
			}
			return j + 1
		case c == '\\':
			if j+1 >= len(raw) || raw[j+1] != '/' {
				return -1
			}
			j += 2
		case c < 0x20:
			return -1
		default:
			j++
		}
	}
	return -1
}

// plainValue returns the end of the plain value at raw[i], or -1.
func plainValue(raw []byte, i int) int {
	if i >= len(raw) {
		return -1
	}
	switch c := raw[i]; {
	case c == '"':
		return plainString(raw, i)
	case c == '-' || c >= '0' && c <= '9':
		j := i
		if raw[j] == '-' {
			j++
		}
		switch {
		case j < len(raw) && raw[j] == '0':
			j++
		case j < len(raw) && raw[j] >= '1' && raw[j] <= '9':
			for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
				j++
			}
		default:
			return -1
		}
		if j < len(raw) && (raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E' || raw[j] >= '0' && raw[j] <= '9') {
			return -1 // a fraction, an exponent or a leading zero
		}
		return j
	case c == '[':
		// A flat array of plain scalars ("rawCodes", the "asi" lines).
		j := skipSpace(raw, i+1)
		if j < len(raw) && raw[j] == ']' {
			return j + 1
		}
		for {
			if j < len(raw) && (raw[j] == '[' || raw[j] == '{') {
				return -1
			}
			end := plainValue(raw, j)
			if end < 0 {
				return -1
			}
			j = skipSpace(raw, end)
			if j >= len(raw) {
				return -1
			}
			switch raw[j] {
			case ',':
				j = skipSpace(raw, j+1)
			case ']':
				return j + 1
			default:
				return -1
			}
		}
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(raw[i:], []byte(lit)) {
			return i + len(lit)
		}
	}
	return -1
}

// plainStrings is the []string of a plain flat array of strings, or ok
// false for any other value.
func plainStrings(val []byte) ([]string, bool) {
	if len(val) < 2 || val[0] != '[' {
		return nil, false
	}
	out := []string{}
	i := skipSpace(val, 1)
	if i < len(val) && val[i] == ']' {
		return out, true
	}
	for i < len(val) {
		end := plainValue(val, i)
		if end < 0 || val[i] != '"' {
			return nil, false
		}
		s, _ := plainText(val[i:end])
		out = append(out, s)
		i = skipSpace(val, end)
		if i >= len(val) {
			return nil, false
		}
		switch val[i] {
		case ',':
			i = skipSpace(val, i+1)
		case ']':
			return out, skipSpace(val, i+1) == len(val)
		default:
			return nil, false
		}
	}
	return nil, false
}

// plainFields decodes a plain object's string members named in keys into
// dst (the same order), as json.Unmarshal into a struct of those string
// fields would: ok is false, and nothing is set, when any member is not
// plain or a named member is not a string.
func plainFields(val []byte, keys []string, dst []*string) bool {
	got := make([]string, len(keys))
	set := make([]bool, len(keys))
	if !plainObject(val, func(key, v []byte) bool {
		for k, want := range keys {
			if string(key) == want {
				s, ok := plainText(v)
				got[k], set[k] = s, true
				return ok
			}
			if foldsTo(key, want) {
				return false
			}
		}
		return true
	}) {
		return false
	}
	for k := range keys {
		if set[k] {
			*dst[k] = got[k]
		}
	}
	return true
}

// decodePlain decodes the body member key from a plain value, as
// decodeMember (encoding/json) would; false hands over to decodeMember.
func (b *ipsBody) decodePlain(key string, val []byte) bool {
	switch key {
	case "bundleInfo":
		return plainFields(val, []string{"CFBundleIdentifier", "CFBundleShortVersionString"}, []*string{&b.BundleInfo.ID, &b.BundleInfo.Version})
	case "osVersion":
		return plainFields(val, []string{"train", "build"}, []*string{&b.OSVersion.Train, &b.OSVersion.Build})
	case "exception":
		return plainFields(val, []string{"type", "signal"}, []*string{&b.Exception.Type, &b.Exception.Signal})
	case "termination":
		var ns string
		var code []byte
		hasNS, hasCode := false, false
		if !plainObject(val, func(k, v []byte) bool {
			switch {
			case string(k) == "namespace":
				var ok bool
				ns, ok = plainText(v)
				hasNS = true
				return ok
			case string(k) == "code":
				code, hasCode = v, true
			case foldsTo(k, "namespace"), foldsTo(k, "code"):
				return false
			}
			return true
		}) {
			return false
		}
		if b.Termination == nil {
			b.Termination = &struct {
				Namespace string          `json:"namespace"`
				Code      json.RawMessage `json:"code"`
			}{}
		}
		if hasNS {
			b.Termination.Namespace = ns
		}
		if hasCode {
			b.Termination.Code = append(json.RawMessage(nil), code...)
		}
		return true
	case "asi":
		return plainASI(val, &b.ASI)
	case "userID":
		return plainIntInto(val, &b.UserID, &b.ints[0])
	case "faultingThread":
		return plainIntInto(val, &b.FaultingThread, &b.ints[1])
	}
	return false
}

// plainASI is decodeMember's plain path for the body's "asi" member, as
// json.Unmarshal into the map would decode it (the pairs added to a map
// already there); false hands over to encoding/json.
func plainASI(val []byte, dst *map[string][]string) bool {
	pairs := map[string][]string{}
	if !plainObject(val, func(key, v []byte) bool {
		lines, ok := plainStrings(v)
		pairs[string(key)] = lines
		return ok
	}) {
		return false
	}
	if *dst == nil {
		*dst = pairs
		return true
	}
	for k, v := range pairs {
		(*dst)[k] = v
	}
	return true
}

// plainIntInto decodes a plain JSON integer into *room and points *dst at
// it, as json.Unmarshal into a *int would (the room is the body's: a
// member that is only read does not take an allocation of its own).
func plainIntInto(val []byte, dst **int, room *int) bool {
	n, ok := plainInt(val)
	if ok {
		*room = n
		*dst = room
	}
	return ok
}

// plainText is the Go string of a plain JSON string value (quotes
// included), or ok false for any other value.
func plainText(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' {
		return "", false
	}
	inner := val[1 : len(val)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		// A view, not a copy: the .ips parser's facts are views into the
		// report's bytes, as the text parser's are, and Classify copies
		// what it keeps (most of what is decoded, the frames' symbols and
		// the images' names, is only read).
		return unsafe.String(unsafe.SliceData(inner), len(inner)), true
	}
	s, _ := unescapeSlashes(inner) // plainString let no other escape through
	return s, true
}

// unescapeSlashes is string(bytes.ReplaceAll(b, `\/`, "/")) in one
// allocation, and ok, when every backslash in b escapes a slash (so that
// no backslash is left); ok is false otherwise.
func unescapeSlashes(b []byte) (string, bool) {
	n := 0
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			if i+1 >= len(b) || b[i+1] != '/' {
				return "", false
			}
			n++
			i++
		}
	}
	if n == 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b)-n)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\\')
		if i < 0 {
			out = append(out, b...)
			break
		}
		out = append(out, b[:i]...)
		out = append(out, '/')
		b = b[i+2:]
	}
	return unsafe.String(unsafe.SliceData(out), len(out)), true
}

// plainInt is the int of a plain JSON integer, or ok false for any other
// value (or one that does not fit).
func plainInt(val []byte) (int, bool) {
	if len(val) == 0 || val[0] != '-' && (val[0] < '0' || val[0] > '9') || plainValue(val, 0) != len(val) {
		return 0, false // not one JSON integer ("00", "1-")
	}
	n, err := strconv.Atoi(string(val))
	return n, err == nil
}

// foldsTo says whether key differs from want but encoding/json would match
// it to want anyway (it matches member names without regard to case): the
// plain reader then gives up rather than guess.
func foldsTo(key []byte, want string) bool {
	return string(key) != want && bytes.EqualFold(key, []byte(want))
}

// decodeFrame decodes one element of a thread's "frames", as
// json.Unmarshal into an ipsFrame would; ok is false when it fails to.
func decodeFrame(raw []byte) (ipsFrame, bool) {
	var fr ipsFrame
	if plainObject(raw, func(key, val []byte) bool { return frameMember(&fr, key, val) }) {
		return fr, true
	}
	return decodeFrameJSON(raw)
}

// decodeFrameJSON is decodeFrame by encoding/json, for a frame the plain
// reader does not take. (Apart, so that decodeFrame's frame stays on the
// stack: what is handed to encoding/json goes to the heap.)
func decodeFrameJSON(raw []byte) (ipsFrame, bool) {
	var fr ipsFrame
	ok := json.Unmarshal(raw, &fr) == nil
	return fr, ok
}

// frameMember sets one member of a plain frame object; false gives up.
func frameMember(fr *ipsFrame, key, val []byte) bool {
	var ok bool
	switch {
	case string(key) == "symbol":
		fr.Symbol, ok = plainText(val)
		return ok
	case string(key) == "imageIndex":
		fr.ImageIndex, ok = plainInt(val)
		return ok
	case foldsTo(key, "symbol"), foldsTo(key, "imageIndex"):
		return false
	}
	return true
}

// decodeFrames decodes a whole "frames" array, as json.Unmarshal into
// []ipsFrame would; ok is false when it fails to.
func decodeFrames(raw []byte) ([]ipsFrame, bool) {
	// The elements are split into room on the stack: a crashed thread
	// has a few dozen frames, and the split is read only here.
	var room [64][]byte
	if els, ok := splitArrayInto(room[:0], raw); ok {
		out := make([]ipsFrame, 0, len(els))
		for _, el := range els {
			var fr ipsFrame
			if !plainObject(el, func(key, val []byte) bool { return frameMember(&fr, key, val) }) {
				out = nil
				break
			}
			out = append(out, fr)
		}
		if out != nil {
			return out, true
		}
	}
	var frames []ipsFrame
	err := json.Unmarshal(raw, &frames)
	return frames, err == nil
}

// decodeImage decodes one element of "usedImages" (its name and path), as
// json.Unmarshal would; ok is false when it fails to.
func decodeImage(raw []byte) (name, path string, ok bool) {
	plain := plainObject(raw, func(key, val []byte) bool {
		var ok bool
		switch {
		case string(key) == "name":
			name, ok = plainText(val)
			return ok
		case string(key) == "path":
			path, ok = plainText(val)
			return ok
		case foldsTo(key, "name"), foldsTo(key, "path"):
			return false
		}
		return true
	})
	if plain {
		return name, path, true
	}
	var img struct {
		Name string `json:"name"`
		Path string `json:"path"`
	}
	err := json.Unmarshal(raw, &img)
	return img.Name, img.Path, err == nil
}

// ipsHeaderKeys are ipsHeader's members, by their JSON names.
var ipsHeaderKeys = []string{"app_name", "name", "bug_type", "os_version", "incident_id", "timestamp", "bundleID", "app_version"}

// decodeHeader decodes the .ips metadata line into h, as json.Unmarshal
// would, and returns json.Unmarshal's error for anything the plain reader
// does not take.
func decodeHeader(line []byte, h *ipsHeader) error {
	var got ipsHeader
	dst := []*string{&got.AppName, &got.Name, &got.BugType, &got.OSVersion, &got.Incident, &got.Timestamp, &got.BundleID, &got.Version}
	plain := plainObject(line, func(key, val []byte) bool {
		for k, want := range ipsHeaderKeys {
			if string(key) == want {
				s, ok := plainText(val)
				*dst[k] = s
				return ok
			}
			if foldsTo(key, want) {
				return false
			}
		}
		return true
	})
	if plain {
		*h = got
		return nil
	}
	return json.Unmarshal(line, h)
}
