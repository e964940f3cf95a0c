package jsonfmt

import (
	"bytes"
	"io"
	"testing"
)

func TestStamper(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"kind":"crash"}` + "\n", `{"schema":1,"kind":"crash"}` + "\n"},
		{`{"schema":1,"kind":"x"}` + "\n", `{"schema":1,"kind":"x"}` + "\n"},
		{"plain text\n{\n", "plain text\n{\n"},
		{"{}\n", "{}\n"},
		{`{"a":1}` + "\n" + `{"b":2}`, `{"schema":1,"a":1}` + "\n" + `{"schema":1,"b":2}`},
	} {
		// Written in pieces of each size, as a stream is, and whole; twice
		// through one Stamper, which keeps its room between lines.
		for n := 1; n <= len(c.in); n++ {
			var b bytes.Buffer
			s := NewStamper(&b)
			for round := 0; round < 2; round++ {
				for i := 0; i < len(c.in); i += n {
					s.Write([]byte(c.in[i:min(i+n, len(c.in))]))
				}
				s.Flush()
			}
			if b.String() != c.want+c.want {
				t.Errorf("%q in pieces of %d: got %q, want %q twice", c.in, n, b.String(), c.want)
			}
		}
	}
}

// TestStamperKeepsItsRoom: a whole line written at once costs no
// allocation once the Stamper has written one (watch --json's lines, on
// the detection path).
func TestStamperKeepsItsRoom(t *testing.T) {
	s := NewStamper(io.Discard)
	line := []byte(`{"kind":"crash","id":"incident:X","evidence":["a","b"]}` + "\n")
	s.Write(line)
	if n := testing.AllocsPerRun(100, func() { s.Write(line) }); n != 0 {
		t.Errorf("%v allocations a line, want 0", n)
	}
}
