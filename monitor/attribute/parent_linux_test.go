//go:build linux

package attribute

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
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
	// Start returns once execve has closed the child's close-on-exec
	// files, which the kernel does before it lays out the new program's
	// arguments (fs/exec.c, begin_new_exec; fs/binfmt_elf.c sets
	// arg_start later): until then the command line reads empty and
	// status is mid-change. Wait for the whole command line.
	cmdline := fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if b, _ := os.ReadFile(cmdline); len(b) > 9000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the shell's command line did not appear", cmdline)
		}
	}
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
			if f == "stat" {
				// Times and counters move between the two reads: the
				// same number of fields.
				if len(bytes.Fields(got)) != len(bytes.Fields(want)) {
					t.Errorf("%s: %d fields, os.ReadFile %d", p, len(bytes.Fields(got)), len(bytes.Fields(want)))
				}
				continue
			}
			if f == "status" {
				// The same lines by name: their values move, and State
				// has one word more in "D (disk sleep)" than in
				// "S (sleeping)".
				if g, w := statusKeys(got), statusKeys(want); g != w {
					t.Errorf("%s: lines %s, os.ReadFile %s", p, g, w)
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

// statusKeys is the names of /proc/PID/status's lines, in order.
func statusKeys(b []byte) string {
	var keys []string
	for _, l := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(l, ":"); ok {
			keys = append(keys, k)
		}
	}
	return strings.Join(keys, ",")
}
