//go:build linux

package attribute

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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
			got, err := readProcFile(unix.AT_FDCWD, p, make([]byte, 0, 4096))
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

// TestProcFolderOutlivesItsProcess: readProcAt reads through the folder it
// holds, not by the number it is given (a folder held for another process
// gives that one's entry); while the process lives its folder gives what
// readProc gives by the number; once it has ended (its number free for
// another), the folder held from before gives errNoProc. That a reused
// number does not reach a folder held for the old process is the
// kernel's (fs/proc/base.c, get_proc_task), not shown here.
func TestProcFolderOutlivesItsProcess(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep to start:", err)
	}
	pid := cmd.Process.Pid
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	dirfd, err := unix.Open(fmt.Sprintf("/proc/%d", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	boot := func() (time.Time, error) { return time.Unix(0, 0), nil }
	self, err := unix.Open("/proc/self", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(self)
	if p, err := readProcAt(boot, pid, self); err != nil || p.PPID != os.Getppid() || len(p.Argv) == 0 || p.Argv[0] != os.Args[0] {
		t.Errorf("the test's own folder, given the child's number: %+v, %v; want the test's entry", p, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		// Until execve is done the child is still this test binary.
		p, err := readProcAt(boot, pid, dirfd)
		if err != nil {
			t.Fatal(err)
		}
		if p.Comm == "sleep" && len(p.Argv) == 2 {
			byNumber, err := readProc(boot, pid)
			if err != nil {
				t.Fatal(err)
			}
			if p.Exe == "" || p.Cwd == "" || p.UID != os.Getuid() || fmt.Sprint(p) != fmt.Sprint(byNumber) {
				t.Errorf("through the folder %+v, by the number %+v", p, byNumber)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child did not become sleep: %+v", p)
		}
	}
	cmd.Process.Kill()
	cmd.Wait() // reaped: the number is free for the next process
	if p, err := readProcAt(boot, pid, dirfd); err != errNoProc {
		t.Errorf("the ended process through its folder: %+v, %v; want errNoProc", p, err)
	}
	var buf [256]byte
	if n, err := unix.Readlinkat(dirfd, "cwd", buf[:]); err == nil {
		t.Errorf("the ended process's cwd through its folder: %q", buf[:n])
	}
}

// TestParseProcStatAgrees: parseProcStat, which cuts the fields after the
// name itself, reads every process's stat on this machine, and stats with
// hostile names, as strings.Fields would (the reading it replaced).
func TestParseProcStatAgrees(t *testing.T) {
	boot := func() (time.Time, error) { return time.Unix(1000, 0), nil }
	reference := func(stat []byte) (ppid int, ticks int64, ok bool) {
		end := bytes.LastIndexByte(stat, ')')
		if bytes.IndexByte(stat, '(') < 0 || end < 0 {
			return 0, 0, false
		}
		f := strings.Fields(string(stat[end+1:]))
		if len(f) < 20 {
			return 0, 0, false
		}
		p, err1 := strconv.Atoi(f[1])
		n, err2 := strconv.ParseInt(f[19], 10, 64)
		return p, n, err1 == nil && err2 == nil
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var inputs [][]byte
	for _, p := range stats {
		if b, err := os.ReadFile(p); err == nil {
			inputs = append(inputs, b)
		}
	}
	if len(inputs) == 0 {
		t.Fatal("no /proc/PID/stat read")
	}
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 12345 20 21\n"
	for _, name := range []string{"a) (b", ") S 9 9", "x\ty", "(", ")", "a b c d e f g h i j k l m n o p q r s t u"} {
		inputs = append(inputs, []byte("42 ("+name+")"+tail))
	}
	inputs = append(inputs, []byte("42 (x) S 1 2\n"), []byte("42 (x)"), []byte("42 x) S"), []byte("42 (x)\tS\t7"+strings.Repeat("\t1", 17)+"\t99\n"),
		[]byte("42 (x) S  7  1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 99\n"))
	for _, in := range inputs {
		ppid, ticks, ok := reference(in)
		p, err := parseProcStat(42, in, boot)
		if ok != (err == nil) {
			t.Errorf("%q: error %v, the reference parses: %v", in, err, ok)
			continue
		}
		if ok && (p.PPID != ppid || !p.Start.Equal(time.Unix(1000, 0).Add(time.Duration(ticks)*time.Second/clockTicks))) {
			t.Errorf("%q: ppid %d start %v; the reference: ppid %d, %d ticks", in, p.PPID, p.Start, ppid, ticks)
		}
	}
}
