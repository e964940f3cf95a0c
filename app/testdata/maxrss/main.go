// Command maxrss runs a command and prints its peak resident set size, for
// BenchmarkHistoryListing. The benchmark's own process cannot ask the
// kernel: Go starts a child with vfork (CLONE_VM), and the exec that
// replaces the shared memory records that memory's high-water mark as the
// child's (fs/exec.c, exec_mmap: setmax_mm_hiwater_rss(&tsk->signal->maxrss,
// old_mm)), so the child's ru_maxrss is at least the benchmark's own peak,
// which a database of 100,000 crashes built in it puts above the goal.
// This small process starts the command instead: the figure it prints is
// the command's peak, or its own peak if that is larger (floor-kb, printed
// too).
//
// Usage: maxrss COMMAND [ARG...]; the command's stdin, stdout and stderr
// are this process's; "maxrss-kb N floor-kb M" goes to the file named by
// MAXRSS_OUT. Its exit status is the command's.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 || os.Getenv("MAXRSS_OUT") == "" {
		fmt.Fprintln(os.Stderr, "usage: MAXRSS_OUT=FILE maxrss COMMAND [ARG...]")
		os.Exit(2)
	}
	floor := ownPeakKB()
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "maxrss:", err)
		os.Exit(2)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	out := fmt.Sprintf("maxrss-kb %d floor-kb %d\n", ru.Maxrss, floor)
	if werr := os.WriteFile(os.Getenv("MAXRSS_OUT"), []byte(out), 0o644); werr != nil {
		fmt.Fprintln(os.Stderr, "maxrss:", werr)
		os.Exit(2)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}

// ownPeakKB is this process's VmHWM (proc(5)), the least a child started
// from it can report.
func ownPeakKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var n int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &n)
			return n
		}
	}
	return -1
}
