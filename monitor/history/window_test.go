package history

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestPageDefaultWindow: the page's default range fits the data. A crash
// older than a year beside recent ones no longer stretches the chart (the
// issue's "one 1-px bar"): the window is the last 30 days, reaching back
// to the oldest crash of the last 90, and the page says how many older
// crashes it leaves out and how to include them.
func TestPageDefaultWindow(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		ages     []int // days before now
		wantDays int
		older    int
	}{
		{"recent only", []int{0, 1, 2}, 30, 0},
		{"one a year old", []int{0, 1, 2, 400}, 30, 1},
		{"back to 60 days", []int{0, 59, 200, 300}, 60, 2},
		{"nothing recent", []int{120}, 30, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := openTest(t, filepath.Join(t.TempDir(), "history.db"), &now)
			for i, age := range c.ages {
				at := now.AddDate(0, 0, -age)
				d.MarkSeen(&report.Report{ID: fmt.Sprintf("incident:%d", i), Process: "gunicorn", PID: 100 + i, Time: at.Format(time.RFC3339), Cause: report.CauseForkSafety, Python: true}, at)
			}
			if err := d.Save(); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := d.WritePage(context.Background(), &buf, PageOptions{Now: now}); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			m := regexp.MustCompile(`(?s)<script type="application/json" id="fw-data">(.*?)</script>`).FindStringSubmatch(page)
			if m == nil {
				t.Fatal("no data block")
			}
			var cd chartData
			if err := json.Unmarshal([]byte(m[1]), &cd); err != nil {
				t.Fatal(err)
			}
			if len(cd.Days) != c.wantDays {
				t.Errorf("%d days on the chart, want %d", len(cd.Days), c.wantDays)
			}
			note := regexp.MustCompile(`id="older">(\d+) older`).FindStringSubmatch(page)
			switch {
			case c.older == 0 && note != nil:
				t.Errorf("a note on older crashes where there are none: %s", note[0])
			case c.older > 0 && (note == nil || note[1] != fmt.Sprint(c.older)):
				t.Errorf("older note %v, want %d", note, c.older)
			case c.older > 0 && !strings.Contains(page, "forkwatch history --page --since "):
				t.Error("the note does not say how to include them")
			}
		})
	}
}

// TestPageNoCursorInChromium: the rendered page has no crosshair elements
// (uPlot's .u-cursor-x/.u-cursor-y, dashed lines that otherwise sit at the
// plot's top left while the pointer is elsewhere).
func TestPageNoCursorInChromium(t *testing.T) {
	bin := chromium(t)
	page, _, _, _ := writeSeededPage(t)
	dom, _ := runChromium(t, bin, "--dump-dom", "file://"+page)
	if !strings.Contains(dom, `data-ready="1"`) {
		t.Fatalf("the page did not render: %.300s", dom)
	}
	// Elements, not the stylesheet's rules (the page inlines uPlot's CSS).
	if regexp.MustCompile(`class="u-cursor-[xy]`).MatchString(dom) {
		t.Error("the charts still have crosshair elements")
	}
}
