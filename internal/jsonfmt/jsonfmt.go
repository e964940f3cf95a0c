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
type Stamper struct {
	w   io.Writer
	buf []byte
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
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := s.line(s.buf[:i+1]); err != nil {
			return len(p), err
		}
		s.buf = s.buf[i+1:]
	}
}

// Flush writes what is left of an unfinished line.
func (s *Stamper) Flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	err := s.line(s.buf)
	s.buf = nil
	return err
}

func (s *Stamper) line(l []byte) error {
	if bytes.HasPrefix(l, objectStart) && !bytes.HasPrefix(l, stamped) {
		out := make([]byte, 0, len(l)+len(stamp))
		out = append(append(out, stamp...), l[1:]...)
		_, err := s.w.Write(out)
		return err
	}
	_, err := s.w.Write(l)
	return err
}
