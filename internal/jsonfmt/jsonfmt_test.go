package jsonfmt

import (
	"bytes"
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
		var b bytes.Buffer
		s := NewStamper(&b)
		// Written in pieces, as a stream is.
		for i := 0; i < len(c.in); i += 3 {
			s.Write([]byte(c.in[i:min(i+3, len(c.in))]))
		}
		s.Flush()
		if b.String() != c.want {
			t.Errorf("%q: got %q, want %q", c.in, b.String(), c.want)
		}
	}
}
