// Package jsonfmt holds what every JSON line Forkwatch writes shares: the
// version of the format (the "schema" field), in one place for every
// command and room (`watch --json`, `status --json`, `doctor --json`,
// `history --json`, `inspect --json`), below both monitor and app so that
// either may stamp it.
//
// The promise (README, "JSON output"): within one Schema, fields are only
// added, never renamed, retyped or given a new meaning; a field whose value
// is unknown is left out rather than written as zero or ""; times are
// RFC 3339. A change that breaks a reader raises Schema.
package jsonfmt

import (
	"bytes"
	"io"
	"strconv"
)

// Schema is the version of Forkwatch's JSON output format.
const Schema = 1

// Stamper writes JSON lines through to w with "schema" as their first
// field: a line that is a JSON object ({"...) and has no schema yet becomes
// {"schema":N,...}. Other lines pass unchanged. Lines are passed on as soon
// as they are complete (watch --json writes one per event); Flush writes a
// last line without its newline.
//
// It keeps its room from line to line: watch --json writes each crash's
// line through it on the detection path, where two new buffers a line (the
// line gathered, then stamped) were memory to clear and fault in after a
// quiet spell. A whole line written at once is stamped from p itself.
type Stamper struct {
	w   io.Writer
	buf []byte // an unfinished line
	out []byte // the stamped line being written (io.Writer: w keeps none of it)
}

// NewStamper returns a Stamper writing to w.
func NewStamper(w io.Writer) *Stamper { return &Stamper{w: w} }

var (
	objectStart = []byte(`{"`)
	stamped     = []byte(`{"schema":`)
	stamp       = []byte(`{"schema":` + strconv.Itoa(Schema) + `,`)
)

// Write implements io.Writer.
func (s *Stamper) Write(p []byte) (int, error) {
	data := p
	if len(s.buf) > 0 {
		s.buf = append(s.buf, p...)
		data = s.buf
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if err := s.line(data[:i+1]); err != nil {
			s.keep(data[i+1:])
			return len(p), err
		}
		data = data[i+1:]
	}
	s.keep(data)
	return len(p), nil
}

// keep holds what follows the last newline for the next Write, in buf's
// room (rest may be the end of buf itself: append copies as memmove does).
func (s *Stamper) keep(rest []byte) {
	s.buf = append(s.buf[:0], rest...)
}

// Flush writes what is left of an unfinished line.
func (s *Stamper) Flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	err := s.line(s.buf)
	s.buf = s.buf[:0]
	return err
}

func (s *Stamper) line(l []byte) error {
	if bytes.HasPrefix(l, objectStart) && !bytes.HasPrefix(l, stamped) {
		s.out = append(append(s.out[:0], stamp...), l[1:]...)
		_, err := s.w.Write(s.out)
		return err
	}
	_, err := s.w.Write(l)
	return err
}
