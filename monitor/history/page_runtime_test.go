package history

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestPageRuntimesInChromium: the history page's breakdown by runtime, as a
// real browser builds the DOM from the written file: one bar per runtime
// with crashes, named as texts name it, most first, with the counts
// recorded.
func TestPageRuntimesInChromium(t *testing.T) {
	bin := chromium(t)
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	d := openTest(t, filepath.Join(dir, "history.db"), &now)
	seedRuntimes := []struct {
		process, rt, cause string
		n                  int
	}{
		{"ruby", report.RuntimeRuby, report.CauseForkSafety, 5},
		{"python3.12", report.RuntimePython, report.CauseForkSafety, 3},
		{"php-fpm", report.RuntimePHP, report.CauseForkChild, 2},
		{"perl", report.RuntimePerl, report.CauseForkSafety, 1},
		{"sentry-cli", report.RuntimeOther, report.CauseForkSafety, 1},
	}
	i := 0
	for _, s := range seedRuntimes {
		for k := 0; k < s.n; k++ {
			i++
			d.MarkSeen(withRuntime(i, s.cause, s.process, s.rt, now.Add(-time.Duration(i)*time.Hour)), now)
		}
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.WritePage(context.Background(), &buf, PageOptions{Now: now, Since: now.AddDate(0, 0, -7)}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "history.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	dom, console := runChromium(t, bin, "--dump-dom", "file://"+page)
	if len(console) != 1 || !strings.Contains(console[0], "forkwatch-history-ready") {
		t.Errorf("console: %q", console)
	}
	list := regexp.MustCompile(`(?s)<ul class="bars" id="runtimes">(.*?)</ul>`).FindStringSubmatch(dom)
	if list == nil {
		t.Fatal("no runtime breakdown in the page")
	}
	var got []string
	for _, m := range regexp.MustCompile(`<li data-runtime="([^"]*)" data-count="(\d+)"`).FindAllStringSubmatch(list[1], -1) {
		got = append(got, m[1]+":"+m[2])
	}
	want := "Ruby:5 Python:3 PHP:2 other:1 Perl:1" // ties in the column's order
	if strings.Join(got, " ") != want {
		t.Errorf("runtime bars %q, want %q", strings.Join(got, " "), want)
	}
	if os.Getenv("FORKWATCH_RUNTIME_SCREENSHOT") != "" {
		shot := os.Getenv("FORKWATCH_RUNTIME_SCREENSHOT")
		runChromium(t, bin, "--screenshot="+shot, "--window-size=1200,1400", "--hide-scrollbars", "file://"+page)
	}
}
