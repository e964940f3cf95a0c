// Command testtimes reads `go test -json` on stdin and prints what plain
// `go test` prints (a line per package, the output of failing tests in
// full), then the slowest packages and tests, so that a slow test is seen
// the day it is added. `make unit` pipes the test run through it. It exits
// 1 when a test or a package failed (or the stream had no result at all),
// so the pipe's status is the run's.
//
// The event format is test2json's (go doc test2json): Action is run,
// pause, cont, pass, fail, skip, output, start, bench, and, since Go 1.24,
// build-output and build-fail with an ImportPath; Elapsed is seconds.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json`.
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string
	FailedBuild string
}

// timing is how long a package or a test took.
type timing struct {
	name    string
	seconds float64
}

// run copies the stream's verdicts to out and returns the timings and
// whether everything passed.
type run struct {
	out      io.Writer
	pending  map[string][]string // output held per package/test until its verdict
	packages []timing
	tests    []timing
	failed   bool
	results  int
}

func newRun(out io.Writer) *run { return &run{out: out, pending: map[string][]string{}} }

func key(e event) string { return e.Package + "\x00" + e.Test }

// add takes one event.
func (r *run) add(e event) {
	switch e.Action {
	case "output":
		r.pending[key(e)] = append(r.pending[key(e)], e.Output)
	case "build-output":
		fmt.Fprint(r.out, e.Output)
	case "build-fail":
		r.failed = true
	case "pass", "fail", "skip":
		r.verdict(e)
	}
}

// verdict prints what plain go test would for a finished test or package.
func (r *run) verdict(e event) {
	held := r.pending[key(e)]
	delete(r.pending, key(e))
	if e.Action == "fail" {
		r.failed = true
		for _, l := range held {
			fmt.Fprint(r.out, l)
		}
	}
	if e.Test != "" {
		if !strings.Contains(e.Test, "/") && e.Action != "skip" {
			r.tests = append(r.tests, timing{e.Package + "." + e.Test, e.Elapsed})
		}
		return
	}
	r.results++
	if e.Action != "fail" {
		// The package's own summary line ("ok  \tpkg\t1.2s", "?  pkg [no test files]").
		for _, l := range held {
			if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "?") || strings.HasPrefix(l, "---") {
				fmt.Fprint(r.out, l)
			}
		}
	}
	if e.Action != "skip" {
		r.packages = append(r.packages, timing{e.Package, e.Elapsed})
	}
}

// summary prints the n slowest packages and tests.
func (r *run) summary(n int) {
	for _, part := range []struct {
		title string
		list  []timing
	}{{"packages", r.packages}, {"tests", r.tests}} {
		slices.SortFunc(part.list, func(a, b timing) int { return cmp.Compare(b.seconds, a.seconds) })
		fmt.Fprintf(r.out, "\nslowest %s (of %d):\n", part.title, len(part.list))
		for _, t := range part.list[:min(n, len(part.list))] {
			fmt.Fprintf(r.out, "  %7.1fs  %s\n", t.seconds, strings.TrimPrefix(t.name, "github.com/forkwatch/forkwatch/"))
		}
	}
}

func main() {
	r := newRun(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not an event (go vet's or the linker's words): pass it on.
			fmt.Println(sc.Text())
			continue
		}
		r.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testtimes:", err)
		r.failed = true
	}
	r.summary(10)
	if r.failed || r.results == 0 {
		os.Exit(1)
	}
}
