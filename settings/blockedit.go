package settings

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Forkwatch edits shell start-up files only between these two lines, so that
// turning a toggle off removes exactly what turning it on added. Flags after
// the begin marker record what the insertion did to the rest of the file, so
// removal can undo it byte for byte: "+eol" (an LF was added after a last
// line that had none; "+crlf", a CRLF, from older versions, is still undone)
// and "+new" (the file did not exist).
const (
	BeginMarker = "# >>> forkwatch >>>"
	EndMarker   = "# <<< forkwatch <<<"
)

// ErrMalformedBlock means a begin marker without its end (or the reverse):
// someone edited our block by hand. We touch nothing then.
var ErrMalformedBlock = errors.New("forkwatch block is incomplete (begin or end marker missing)")

// HasBlock reports whether content holds a forkwatch block.
func HasBlock(content []byte) bool {
	_, _, ok := findBlock(content)
	return ok
}

// BlockBody returns the lines between the markers of the first block, as
// they are in the file (a CRLF body keeps its "\r": it does not work in bash,
// so callers comparing it with what they wrote see it as different).
func BlockBody(content []byte) (string, bool) {
	start, end, ok := findBlock(content)
	if !ok {
		return "", false
	}
	block := string(content[start:end])
	lines := splitLinesKeep(block)
	if len(lines) < 2 {
		return "", false
	}
	return strings.Join(lines[1:len(lines)-1], ""), true
}

// InsertBlock returns content with a block holding body (lines without the
// markers) at its end. If a block is already there with the same body,
// content is returned unchanged; with another body, or with lines ending in
// CRLF (written by an older Forkwatch, or by an editor since), the block is
// rewritten in place. existed says whether the file existed (for the "+new"
// flag).
//
// The block's lines always end in LF, even in a file whose other lines end
// in CRLF: bash and zsh read "\r" as part of the last word, so a CRLF block
// fails in bash ("ulimit: 0\r: invalid number") while an LF line inside a
// CRLF file works in both. For the same reason the line ending added after a
// last line without one is LF ("+eol"): a CRLF there would append "\r" to the
// user's last command.
func InsertBlock(content []byte, body string, existed bool) ([]byte, error) {
	if start, end, ok := findBlock(content); ok {
		lines := splitLinesKeep(string(content[start:end]))
		begin := strings.TrimRight(lines[0], "\r\n") + "\n"
		tail := ""
		if trailingEOL(lines[len(lines)-1]) != "" {
			tail = "\n"
		}
		nb := begin + withEOL(body, "\n") + EndMarker + tail
		if string(content[start:end]) == nb {
			return content, nil
		}
		out := append([]byte{}, content[:start]...)
		out = append(out, nb...)
		return append(out, content[end:]...), nil
	} else if bytes.Contains(content, []byte(BeginMarker)) || bytes.Contains(content, []byte(EndMarker)) {
		return nil, ErrMalformedBlock
	}
	begin := BeginMarker
	var out []byte
	switch {
	case !existed:
		begin += " +new"
	case len(content) > 0 && content[len(content)-1] != '\n':
		begin += " +eol"
		out = append(out, content...)
		out = append(out, '\n')
	default:
		out = append(out, content...)
	}
	out = append(out, begin+"\n"+withEOL(body, "\n")+EndMarker+"\n"...)
	return out, nil
}

// RemoveBlock returns content without any forkwatch block, undoing what the
// insertion did. deleteFile is true when the file was created by us and is
// now empty: the caller removes the file.
func RemoveBlock(content []byte) (out []byte, deleteFile bool, err error) {
	out = content
	for {
		start, end, ok := findBlock(out)
		if !ok {
			if bytes.Contains(out, []byte(BeginMarker)) || bytes.Contains(out, []byte(EndMarker)) {
				return nil, false, ErrMalformedBlock
			}
			return out, deleteFile, nil
		}
		beginLine := strings.TrimRight(splitLinesKeep(string(out[start:end]))[0], "\r\n")
		cut := start
		// Drop the line ending we added after the user's last line.
		if strings.HasSuffix(beginLine, " +eol") && cut >= 1 && out[cut-1] == '\n' {
			cut--
		} else if strings.HasSuffix(beginLine, " +crlf") && cut >= 2 && out[cut-2] == '\r' && out[cut-1] == '\n' {
			cut -= 2
		}
		next := append([]byte{}, out[:cut]...)
		next = append(next, out[end:]...)
		if strings.HasSuffix(beginLine, " +new") && len(next) == 0 {
			deleteFile = true
		}
		out = next
	}
}

// findBlock finds the first begin-marker line and the end-marker line after
// it; end is just past the end marker's line ending.
func findBlock(content []byte) (start, end int, ok bool) {
	pos := 0
	start = -1
	for pos < len(content) {
		nl := bytes.IndexByte(content[pos:], '\n')
		lineEnd := len(content)
		if nl >= 0 {
			lineEnd = pos + nl + 1
		}
		line := strings.TrimRight(string(content[pos:lineEnd]), "\r\n")
		if start < 0 && (line == BeginMarker || strings.HasPrefix(line, BeginMarker+" +")) {
			start = pos
		} else if start >= 0 && line == EndMarker {
			return start, lineEnd, true
		}
		pos = lineEnd
	}
	return 0, 0, false
}

func splitLinesKeep(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func trailingEOL(line string) string {
	switch {
	case strings.HasSuffix(line, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(line, "\n"):
		return "\n"
	}
	return ""
}

// withEOL ends every line of body with eol.
func withEOL(body, eol string) string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.TrimSuffix(body, "\n")
	if body == "" {
		return ""
	}
	return strings.ReplaceAll(body, "\n", eol) + eol
}

// describeLine formats a file:line reference for messages.
func describeLine(path string, n int) string { return fmt.Sprintf("%s:%d", path, n) }
