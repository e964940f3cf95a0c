package history

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestPageMarksAndAdvice: toggle changes of one moment are one mark whose
// labels do not overlap each other or a nearby mark's; the advice of a
// crash loop is shown once, its other rows point at it; the cause is shown
// in the page's words and the CLI's (fork-child, crash). Checked in
// headless Chromium, with a screenshot (FORKWATCH_SCREENSHOT=path keeps
// it). Issue 32: labels drawn over each other, the advice on every row,
// cause names that differed from the CLI's.
func TestPageMarksAndAdvice(t *testing.T) {
	bin := chromium(t)
	now := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	d := openTest(t, filepath.Join(dir, "history.db"), &now)
	loop := "Worker killed after fork(): use the spawn start method (multiprocessing.set_start_method(\"spawn\"))."
	for i := 0; i < 6; i++ {
		at := now.Add(-time.Duration(i) * time.Hour)
		d.MarkSeen(&report.Report{ID: fmt.Sprintf("incident:L%02d", i), Process: "celery", PID: 5000 + i, Time: at.Format(time.RFC3339),
			Cause: report.CauseForkChild, Python: true, Advice: loop, Group: "parent:4999:1764900000"}, at)
	}
	other := now.Add(-30 * time.Minute)
	d.MarkSeen(&report.Report{ID: "incident:X", Process: "duckdb-cli", PID: 777, Time: other.Format(time.RFC3339),
		Cause: report.CauseCrash, Advice: "a crash in duckdb: update it"}, other)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	moment := now.Add(-48 * time.Hour)
	for _, c := range []struct {
		name string
		on   bool
		at   time.Time
	}{
		{"ulimit-core", true, moment}, {"coredump-off", true, moment.Add(10 * time.Second)}, {"fork-safety-off", true, moment.Add(20 * time.Second)},
		{"login-item", true, moment.Add(40 * time.Minute)}, // near in pixels
		{"ulimit-core", false, now.Add(-5 * time.Hour)},
	} {
		if err := d.RecordToggle(c.name, c.on, "", c.at); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := d.WritePage(context.Background(), &buf, PageOptions{Now: now, Since: now.AddDate(0, 0, -6)}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "history.html")
	os.WriteFile(page, buf.Bytes(), 0o600)

	table := buf.String()[strings.Index(buf.String(), `<table id="recent">`):]
	if n := strings.Count(table, "spawn start method"); n != 1 {
		t.Errorf("the crash loop's advice is shown %d times, want once", n)
	}
	if n := strings.Count(table, "same advice as celery at"); n != 5 {
		t.Errorf("%d rows point at the loop's advice, want 5", n)
	}
	if !strings.Contains(table, "a crash in duckdb") {
		t.Error("another program's advice is gone")
	}
	for _, c := range []string{`death after fork <code class="cli">fork-child</code>`, `other crash <code class="cli">crash</code>`} {
		if !strings.Contains(table, c) {
			t.Errorf("no %q in the table", c)
		}
	}

	dom, console := runChromium(t, bin, "--dump-dom", "file://"+page)
	if len(console) != 1 || !strings.Contains(console[0], "forkwatch-history-ready") {
		t.Errorf("console: %q", console)
	}
	tag := regexp.MustCompile(`<div[^>]*id="timeline"[^>]*>`).FindString(dom)
	for attr, want := range map[string]string{"data-marks": "3", "data-label-overlaps": "0"} {
		m := regexp.MustCompile(attr + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil || m[1] != want {
			t.Errorf("%s = %v, want %s (%s)", attr, m, want, tag)
		}
	}
	shot := filepath.Join(dir, "marks.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1200,1500", "--hide-scrollbars", "file://"+page)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 20_000 {
		t.Fatalf("screenshot: %v", err)
	}
	if dst := os.Getenv("FORKWATCH_SCREENSHOT"); dst != "" {
		png, _ := os.ReadFile(shot)
		os.WriteFile(dst, png, 0o644)
	}
}

// TestPageUnknownProgramDashed: a crash whose report names no process (an
// excerpt) and no project shows a dash in those cells, as the CLI does,
// not an empty cell that reads as a broken row.
func TestPageUnknownProgramDashed(t *testing.T) {
	now := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	d := openTest(t, filepath.Join(t.TempDir(), "history.db"), &now)
	d.MarkSeen(&report.Report{ID: "incident:NONAME", Cause: report.CauseForkSafety, Advice: "a fork child killed"}, now)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.WritePage(context.Background(), &buf, PageOptions{Now: now, Since: now.AddDate(0, 0, -1)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<td class="t">`) || !strings.Contains(buf.String(), "<td>–</td><td>–</td><td class=\"cause") {
		t.Errorf("a crash with no program and no project: want dashes in both cells; page row: %s", rowOf(buf.String()))
	}
}

// rowOf is the first table row of the recent crashes, for a message.
func rowOf(page string) string {
	i := strings.Index(page, `<td class="t">`)
	if i < 0 {
		return "(no row)"
	}
	j := strings.Index(page[i:], "</tr>")
	if j < 0 {
		return page[i:]
	}
	return page[i : i+j]
}
