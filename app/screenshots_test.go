package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/internal/chromium"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// -screenshots rewrites the README's pictures (build/screenshots.sh).
// Without it the same pictures are made into a temporary folder, so the
// generator is exercised by every test run and cannot rot.
var updateScreenshots = flag.Bool("screenshots", false, "write the README's screenshots into docs/")

// seedRealisticHistory records three weeks of what a developer's Mac
// sees: a gunicorn crash loop in ~/src/shop (the fork-safety check), celery
// workers in ~/src/billing dying after fork in libdispatch, a few ordinary
// crashes of a data script, the toggles switched on the way, and core
// files written and removed. Every report is a real one from the corpus
// (monitor/report/testdata) with its pid, time and project changed.
func seedRealisticHistory(t *testing.T, path string, now time.Time) {
	t.Helper()
	read := func(name string) report.Report {
		r, _ := report.ReadFile(sample(name))
		if r == nil {
			t.Fatalf("corpus report %s", name)
		}
		return *r
	}
	forkSafety := read("python39-rq-objc-fork-django-rq-574.ips")
	forkChild := read("python311-fork-child-virt-manager-196.ips")
	other := read("python313-duckdb-segv-chunkhound.ips")
	d, err := history.Open(path, history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	home := "/Users/ana"
	n := 0
	add := func(tmpl report.Report, at time.Time, program, project, venv string) {
		r := tmpl
		n++
		r.ID = fmt.Sprintf("incident:%08X-0000-4000-8000-%012d", n, n)
		r.PID = 40000 + n*7
		r.Time = at.Format(time.RFC3339)
		r.Process = program
		r.Project, r.Venv = project, venv
		r.Path = fmt.Sprintf("%s/Library/Logs/DiagnosticReports/%s-%s.ips", home, program, at.Format("2006-01-02-150405"))
		d.MarkSeen(&r, at)
	}
	day := func(back int, h, m int) time.Time {
		y, mo, dd := now.AddDate(0, 0, -back).Date()
		t := time.Date(y, mo, dd, h, m, 0, 0, time.Local)
		if t.After(now) { // today, later than now: an hour ago instead
			t = now.Add(-time.Hour)
		}
		return t
	}
	// A gunicorn crash loop after a deploy, three days running.
	for _, back := range []int{16, 15, 15, 9} {
		for k := 0; k < 6+back%5; k++ {
			add(forkSafety, day(back, 10, 5+k), "Python", home+"/src/shop", home+"/src/shop/.venv")
		}
	}
	// Celery workers, a few a day.
	for back := 20; back >= 2; back -= 3 {
		for k := 0; k < 2+back%3; k++ {
			add(forkChild, day(back, 14, 20+k*7), "Python", home+"/src/billing", home+"/src/billing/.venv")
		}
	}
	// An ordinary crash of the ETL script now and then.
	for _, back := range []int{18, 12, 6, 1, 0} {
		add(other, day(back, 17, 42), "python3.13", home+"/src/etl", home+"/src/etl/.venv")
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	for _, tg := range []struct {
		back int
		name string
		on   bool
	}{{14, "ulimit-core", true}, {9, "fork-safety-off", true}, {4, "fork-safety-off", false}} {
		if err := d.RecordToggle(tg.name, tg.on, "", day(tg.back, 11, 30)); err != nil {
			t.Fatal(err)
		}
	}
	for k, back := range []int{16, 15, 9} {
		p := fmt.Sprintf("/cores/core.%d", 50000+k)
		if err := d.RecordCore(report.CoreFile{Path: p, PID: 50000 + k, Size: int64(2+k) * 1_400_000_000, Complete: true, Process: "Python"}, day(back, 10, 30)); err != nil {
			t.Fatal(err)
		}
		if k < 2 {
			if err := d.RecordCoreRemoved(p, day(back-1, 9, 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHistoryScreenshot makes docs/history.png from a realistic history
// (seedRealisticHistory) through the real `history --page`, in headless
// Chromium (chromium.Find: Chromium on PATH, or the Chrome app bundle of a
// Mac, as on the macos-15 runner image, which has no chromium on PATH).
func TestHistoryScreenshot(t *testing.T) {
	t.Parallel()
	historyScreenshot(t, *updateScreenshots)
}

// TestHistoryScreenshotLongHome: the same with a home folder as long as a
// Mac user's can be and TMPDIR inside it. Chromium binds its singleton
// socket in a folder under TMPDIR and dies with "Socket path too long"
// when the path passes sun_path (104 bytes on macOS, 108 on Linux;
// internal/chromium); chromium.NewScratch keeps the profile and TMPDIR of
// the run short whatever HOME and TMPDIR are.
func TestHistoryScreenshotLongHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "Users", strings.Repeat("n", 64))
	long := filepath.Join(home, "Library", "Caches", "forkwatch-tests")
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	if chromium.SocketFits(long, runtime.GOOS) {
		t.Fatalf("TMPDIR %s (%d bytes) is too short to show anything", long, len(long))
	}
	t.Setenv("HOME", home)
	t.Setenv("TMPDIR", long)
	historyScreenshot(t, false)
}

// historyScreenshot seeds a history, writes its page with the real binary
// and shoots it in headless Chromium; update writes docs/history.png.
func historyScreenshot(t *testing.T, update bool) {
	bin, err := chromium.Find(runtime.GOOS)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI installs a browser)", err)
		}
		t.Skipf("%v: apt-get install chromium", err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "history.db")
	seedRealisticHistory(t, db, time.Now())
	page := filepath.Join(dir, "history.html")
	if _, errOut, code := runSplit(t, testEnv(t), "history", "--page", "--db", db, "--out", page); code != 0 {
		t.Fatalf("history --page: %d %s", code, errOut)
	}
	shot := filepath.Join(dir, "history.png")
	if update {
		shot, _ = filepath.Abs(filepath.Join("..", "docs", "history.png"))
	}
	scratch, err := chromium.NewScratch(runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scratch.Remove() })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+scratch.Profile,
		"--hide-scrollbars", "--window-size=1200,1400", "--screenshot="+shot, "file://"+page)
	cmd.Env = scratch.Env(os.Environ())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	fi, err := os.Stat(shot)
	if err != nil || fi.Size() < 20_000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	t.Logf("wrote %s (%d bytes)", shot, fi.Size())
}
