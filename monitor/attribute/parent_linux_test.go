//go:build linux

package attribute

import (
	"os"
	"testing"
)

func TestParseStatusUID(t *testing.T) {
	for in, want := range map[string]int{
		"Name:\tpython3\nUid:\t501\t0\t501\t501\nGid:\t20\t20\t20\t20\n": 501,
		"Uid:\t0\t0\t0\t0\n":  0,
		"Name:\tx\n":          -1,
		"Uid:\n":              -1,
		"Uid:\t-3\t0\t0\t0\n": -1,
	} {
		if got := parseStatusUID([]byte(in)); got != want {
			t.Errorf("parseStatusUID(%q) = %d, want %d", in, got, want)
		}
	}
	p, err := newProcReader()(os.Getpid())
	if err != nil || p.UID != os.Getuid() {
		t.Errorf("own process: uid %v, err %v; want %d", p, err, os.Getuid())
	}
}
