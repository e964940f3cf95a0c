package settings

import (
	"bytes"
	"testing"
)

var blockCases = []struct {
	name    string
	in      string
	existed bool
}{
	{"empty existing", "", true},
	{"new file", "", false},
	{"lf", "export A=1\nulimit -c unlimited\n", true},
	{"no final newline", "export A=1", true},
	{"crlf", "export A=1\r\nexport B=2\r\n", true},
	{"crlf no final newline", "export A=1\r\nexport B=2", true},
	{"only newline", "\n", true},
	{"unicode", "alias ß='ls'\n# ümlaut\n", true},
}

// TestBlockRoundTrip: on then off gives the input back byte for byte; on
// twice changes nothing the second time.
func TestBlockRoundTrip(t *testing.T) {
	for _, tc := range blockCases {
		t.Run(tc.name, func(t *testing.T) {
			on, err := InsertBlock([]byte(tc.in), "ulimit -c 0", tc.existed)
			if err != nil {
				t.Fatal(err)
			}
			if !HasBlock(on) || !bytes.HasPrefix(on, []byte(tc.in)) {
				t.Fatalf("insert gave %q", on)
			}
			again, err := InsertBlock(on, "ulimit -c 0", true)
			if err != nil || !bytes.Equal(again, on) {
				t.Fatalf("second insert changed the file: %q -> %q (%v)", on, again, err)
			}
			off, del, err := RemoveBlock(on)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(off, []byte(tc.in)) {
				t.Fatalf("remove gave %q, want %q", off, tc.in)
			}
			if del != !tc.existed {
				t.Fatalf("deleteFile = %v for existed=%v", del, tc.existed)
			}
		})
	}
}

// TestBlockKeepsUserEditsAround: text the user adds after our block stays.
func TestBlockKeepsUserEditsAround(t *testing.T) {
	on, _ := InsertBlock([]byte("a\n"), "ulimit -c 0", true)
	on = append(on, "b\n"...)
	off, _, err := RemoveBlock(on)
	if err != nil || string(off) != "a\nb\n" {
		t.Fatalf("got %q %v", off, err)
	}
}

func TestBlockMalformed(t *testing.T) {
	for _, in := range []string{BeginMarker + "\nulimit -c 0\n", "x\n" + EndMarker + "\n"} {
		if _, err := InsertBlock([]byte(in), "ulimit -c 0", true); err != ErrMalformedBlock {
			t.Errorf("insert %q: err %v", in, err)
		}
		if _, _, err := RemoveBlock([]byte(in)); err != ErrMalformedBlock {
			t.Errorf("remove %q: err %v", in, err)
		}
	}
}

// FuzzBlockRoundTrip: for any file without our markers, insert then remove
// gives it back byte for byte, and insert is idempotent.
func FuzzBlockRoundTrip(f *testing.F) {
	for _, tc := range blockCases {
		f.Add([]byte(tc.in), tc.existed)
	}
	f.Add([]byte("# >>> forkwatch"), true)
	f.Fuzz(func(t *testing.T, in []byte, existed bool) {
		if !existed {
			in = nil
		}
		on, err := InsertBlock(in, "ulimit -c 0", existed)
		if bytes.Contains(in, []byte(BeginMarker)) || bytes.Contains(in, []byte(EndMarker)) {
			return // the user's own markers: not our input space
		}
		if err != nil {
			t.Fatalf("insert: %v", err)
		}
		again, err := InsertBlock(on, "ulimit -c 0", true)
		if err != nil || !bytes.Equal(again, on) {
			t.Fatalf("not idempotent: %q -> %q", on, again)
		}
		off, del, err := RemoveBlock(on)
		if err != nil {
			t.Fatalf("remove: %v", err)
		}
		if !bytes.Equal(off, in) {
			t.Fatalf("round trip: %q -> %q -> %q", in, on, off)
		}
		if del != !existed {
			t.Fatalf("deleteFile %v existed %v", del, existed)
		}
	})
}
