//go:build linux

package attribute

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
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

// TestReadProcFileWhole: readProcFile, which stops at the first read that
// does not fill its buffer, reads each /proc file attribution reads as
// os.ReadFile does (which reads until a read returns nothing): for a live
// process whose command line is longer than the first buffer, and for
// this one.
func TestReadProcFileWhole(t *testing.T) {
	long := strings.Repeat("x", 3000)
	cmd := exec.Command("sh", "-c", "sleep 60", "sh", long, long, long)
	if err := cmd.Start(); err != nil {
		t.Skip("no sh to start:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for _, pid := range []int{cmd.Process.Pid, os.Getpid()} {
		for _, f := range []string{"stat", "cmdline", "status"} {
			p := fmt.Sprintf("/proc/%d/%s", pid, f)
			got, err := readProcFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if f == "stat" || f == "status" {
				// Times and counters move between the two reads: the
				// same fields, and the same text up to the first that does.
				if len(bytes.Fields(got)) != len(bytes.Fields(want)) {
					t.Errorf("%s: %d fields, os.ReadFile %d", p, len(bytes.Fields(got)), len(bytes.Fields(want)))
				}
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes, os.ReadFile %d", p, len(got), len(want))
			}
			if pid == cmd.Process.Pid && len(got) < 9000 {
				t.Errorf("%s: %d bytes, want the whole command line (over 9,000)", p, len(got))
			}
		}
	}
}
