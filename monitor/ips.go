package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
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
}

type ipsBody struct {
	PID         int    `json:"pid"`
	ProcName    string `json:"procName"`
	ProcPath    string `json:"procPath"`
	ParentProc  string `json:"parentProc"`
	ParentPID   int    `json:"parentPid"`
	Responsible string `json:"responsibleProc"`
	Incident    string `json:"incident"`
	CaptureTime string `json:"captureTime"`
	BugType     string `json:"bug_type"`
	BundleInfo  struct {
		ID string `json:"CFBundleIdentifier"`
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
	Threads        []struct {
		Triggered bool `json:"triggered"`
		Frames    []struct {
			Symbol     string `json:"symbol"`
			ImageIndex int    `json:"imageIndex"`
		} `json:"frames"`
	} `json:"threads"`
	UsedImages []struct {
		Name     string `json:"name"`
		Path     string `json:"path"`
		BundleID string `json:"CFBundleIdentifier"`
	} `json:"usedImages"`
}

// crashBugTypes are the header bug_types that hold a crash. Others in the same
// folders (jetsam 298, hangs 409, stackshots 288, panics 210, ...) are skipped.
var crashBugTypes = map[string]bool{"309": true, "109": true}

// topLevelKey matches one top-level member of a pretty-printed .ips body: two
// spaces, "key" : value, optional comma. Used to salvage truncated bodies.
var topLevelKey = regexp.MustCompile(`^  "([A-Za-z_][A-Za-z0-9_]*)" : (.*?),?\s*$`)

// looksLikeIPS tells the two formats apart: a .ips starts with a JSON object,
// or (an excerpt of a body) with top-level "key" : value lines.
func looksLikeIPS(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(t) > 0 && t[0] == '{' {
		return true
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return topLevelKey.Match(bytes.TrimRight(line, "\r"))
}

func parseIPS(data []byte) (*facts, error) {
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		data = t
	} else {
		// An excerpt of a body: keep the first line's indentation.
		data = bytes.TrimLeft(data, "\r\n")
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("blank: %w", ErrIncomplete)
	}
	var hdr ipsHeader
	body := data
	if data[0] == '{' {
		line, rest, found := bytes.Cut(data, []byte("\n"))
		if err := json.Unmarshal(line, &hdr); err != nil {
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
			f, err := parseCrash(body)
			if f != nil {
				f.format = FormatIPS
				fillFromHeader(f, &hdr)
			}
			return f, err
		}
	}

	var b ipsBody
	partial := false
	if body[0] == '{' {
		err := decodeStrict(body, &b)
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			// A member of an unexpected type: the others were decoded.
			err = nil
		}
		if err != nil && !isTruncation(err) {
			return nil, fmt.Errorf("body: %v: %w", err, ErrNotCrashReport)
		}
		partial = err != nil
	} else {
		partial = true
	}
	if partial {
		b = ipsBody{}
		if !salvage(body, &b) {
			return nil, fmt.Errorf("body stops before any field: %w", ErrIncomplete)
		}
	}
	if b.BugType != "" && !crashBugTypes[b.BugType] {
		return nil, fmt.Errorf("diagnostic of bug_type %s, not a crash: %w", b.BugType, ErrOtherDiagnostic)
	}
	f := &facts{
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
	if b.OSVersion.Train != "" {
		f.osVersion = strings.TrimSpace(b.OSVersion.Train + " (" + b.OSVersion.Build + ")")
	}
	if t := b.Termination; t != nil {
		f.termNS = t.Namespace
		f.termCode = strings.Trim(string(t.Code), `"`)
	}
	for _, lines := range b.ASI {
		f.asi = append(f.asi, lines...)
	}
	for _, img := range b.UsedImages {
		f.images = append(f.images, img.Path)
		if img.Path == "" {
			f.images[len(f.images)-1] = img.Name
		}
	}
	// The crashed thread: "triggered", or the faultingThread index.
	ti := -1
	for i, t := range b.Threads {
		if t.Triggered {
			ti = i
			break
		}
	}
	if ti < 0 && b.FaultingThread != nil && *b.FaultingThread >= 0 && *b.FaultingThread < len(b.Threads) {
		ti = *b.FaultingThread
	}
	if ti >= 0 {
		for _, fr := range b.Threads[ti].Frames {
			img := ""
			if fr.ImageIndex >= 0 && fr.ImageIndex < len(b.UsedImages) {
				img = b.UsedImages[fr.ImageIndex].Name
			}
			f.crashed = append(f.crashed, frame{image: img, symbol: fr.Symbol})
		}
	}
	fillFromHeader(f, &hdr)
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

// salvage rebuilds what it can of a body that stops early, from the
// top-level members that were written in full (each sits on its own line).
func salvage(body []byte, b *ipsBody) bool {
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	for _, line := range bytes.Split(body, []byte("\n")) {
		m := topLevelKey.FindSubmatch(bytes.TrimRight(line, "\r"))
		if m == nil || !json.Valid(m[2]) {
			continue
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.Quote(string(m[1])))
		buf.WriteByte(':')
		buf.Write(m[2])
		n++
	}
	buf.WriteByte('}')
	if n == 0 {
		return false
	}
	// Members of the wrong type (a hostile or odd file) must not sink the
	// rest: decode member by member.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &members); err != nil {
		return false
	}
	for k, v := range members {
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		_ = json.Unmarshal(one, b)
	}
	return true
}
