package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// BenchmarkHistoryListing: 100,000 crashes, each stored with a real
// report's fields (the corpus's rq fork-safety report, its evidence and
// advice), then the real binary's listings: plain `history` (the most
// recent 50), `history --all` and `history --json --all`. Each must print
// its first crash within 0.5 s and stay under 50 MB of peak RSS, whatever
// the number of rows (they stream). Run by `make bench`.
//
// The peak is the listing's own, taken by a small process that starts it
// (testdata/maxrss): a child's ru_maxrss includes the peak of the process
// that started it with vfork, here this one, which building the database
// (listingDB) brings past 50 MB (all three listings read 51-57 MB, the
// same figure, until this was seen).
func BenchmarkHistoryListing(b *testing.B) {
	const n = 100_000
	bin := forkwatchBin(b)
	db := listingDB(b, n)
	spawner := filepath.Join(b.TempDir(), "maxrss")
	if out, err := goCommand("build", "-o", spawner, "./testdata/maxrss").CombinedOutput(); err != nil {
		b.Fatalf("build testdata/maxrss: %v\n%s", err, out)
	}
	rssFile := filepath.Join(b.TempDir(), "maxrss.txt")
	for i := 0; i < b.N; i++ {
		for _, c := range []struct {
			skip int
			args []string
		}{{1, []string{"history"}}, {1, []string{"history", "--all"}}, {0, []string{"history", "--json", "--all"}}} {
			first, total, lines, rss, floor := runListing(b, spawner, rssFile, c.skip, append([]string{bin}, append(c.args, "--db", db)...)...)
			fmt.Printf("%v at %d crashes: first crash after %v, %d lines in %v, peak RSS %.1f MB (the spawner's own: %.1f MB)\n", c.args, n, first.Round(time.Millisecond), lines, total.Round(time.Millisecond), rss, floor)
			if rss <= floor {
				b.Errorf("%v: peak RSS %.1f MB is the spawner's own (%.1f MB): the listing's is not known", c.args, rss, floor)
			}
			if first > 500*time.Millisecond {
				b.Errorf("%v: first line after %v, goal 0.5 s", c.args, first)
			}
			if rss > 50 {
				b.Errorf("%v: peak RSS %.1f MB, goal 50 MB", c.args, rss)
			}
		}
	}
}

// listingDB is a history database of n crashes, each the corpus's rq
// fork-safety report with its own id, pid, time, path and project.
func listingDB(b *testing.B, n int) string {
	db := filepath.Join(b.TempDir(), "history.db")
	tmpl, _ := report.ReadFile(sample("python39-rq-objc-fork-django-rq-574.ips"))
	if tmpl == nil {
		b.Fatal("no template report")
	}
	d, err := history.Open(db, history.Options{PruneEvery: -1, MaxCrashes: 2 * n, MaxAge: 10 * 365 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := 0; i < n; i++ {
		r := *tmpl
		at := now.Add(-time.Duration(n-i) * 5 * time.Minute)
		r.ID, r.PID, r.Time = fmt.Sprintf("incident:%08d", i), 1000+i%50000, at.Format(time.RFC3339)
		r.Path = fmt.Sprintf("/Users/a/Library/Logs/DiagnosticReports/Python-%08d.ips", i)
		r.Project = fmt.Sprintf("/Users/a/src/project-with-a-long-name-%d", i%13)
		d.MarkSeen(&r, at)
		if i%500 == 0 {
			if err := d.Save(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	return db
}

// runListing runs the command through the spawner and returns the time to
// the first crash line (the line after skip lines), the total time, the
// lines, the peak RSS and the least the spawner could report (its own
// peak), in MB.
func runListing(b *testing.B, spawner, rssFile string, skip int, command ...string) (first, total time.Duration, lines int, rssMB, floorMB float64) {
	args := command[1:]
	cmd := exec.Command(spawner, command...)
	cmd.Env = append(os.Environ(), "MAXRSS_OUT="+rssFile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewReader(out)
	for {
		_, err := sc.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		lines++
		if lines == skip+1 {
			first = time.Since(start)
		}
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("%v: %v", args, err)
	}
	total = time.Since(start)
	var rssKB, floorKB int64
	got, _ := os.ReadFile(rssFile)
	if n, _ := fmt.Sscanf(string(got), "maxrss-kb %d floor-kb %d", &rssKB, &floorKB); n != 2 {
		b.Fatalf("%v: maxrss said %q", args, got)
	}
	return first, total, lines, float64(rssKB) / 1024, float64(floorKB) / 1024 // Linux: KB
}
