package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"html/template"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The page is one self-contained HTML file rather than a page served by
// Forkwatch on 127.0.0.1: a file needs no listening socket, no token to
// guard it from other local users and web pages, keeps working after the
// app quits, and can be kept or mailed as it is. Its data is a snapshot
// taken when it is written; the menu writes it again on each click.
//
// Everything is inline (no CDN, no request at all): the chart library is
// uPlot (MIT, https://github.com/leeoniya/uPlot, small and maintained: see
// uplot/README.md), embedded below; the data is JSON in a
// <script type="application/json"> block, encoded by json.Marshal, which
// escapes <, > and & so that no string in a crash report can close the
// block; the rest is filled in by html/template. A strict CSP forbids any
// fetch.

var (
	//go:embed page.html.tmpl
	pageTemplate string
	//go:embed uplot/uPlot.iife.min.js
	uplotJS string
	//go:embed uplot/uPlot.min.css
	uplotCSS string
	//go:embed uplot/LICENSE
	uplotLicense string
)

var pageTmpl = template.Must(template.New("page").Parse(pageTemplate))

// PageOptions say what the page covers.
type PageOptions struct {
	Now time.Time
	// Since is the first day on the timeline; zero: the day of the oldest
	// crash, at most DefaultMaxAge back.
	Since time.Time
	// Recent is how many crashes the table lists; 0 means 200.
	Recent int
	Title  string
}

type pageCounts struct {
	Total, ForkSafety, ForkChild, Other, Today, Week int
}

type pageRow struct {
	Time, Program, Project, Cause, Class, Advice, Path string
	// CLICause is the cause as the commands name it (fork-safety,
	// fork-child, crash, …), shown beside Cause, the page's words.
	CLICause string
	// SameAs, when set, stands for Advice: the row's group (its crash loop,
	// else the same program and cause) had its advice on an earlier row.
	SameAs string
	PID    int
	Link   template.URL
	group  string // the advice's group (adviceOncePerGroup)
}

type pageGroup struct {
	Key     string
	Count   int
	Percent float64
}

type pageView struct {
	Title      string
	Generated  string
	FirstDay   string
	LastDay    string
	Counts     pageCounts
	Programs   []pageGroup
	Projects   []pageGroup
	Runtimes   []pageGroup // every runtime with crashes, most first
	Rows       []pageRow
	Toggles    []Toggle
	CoreFound  int
	CoreBytes  string
	Reclaimed  string
	OnDisk     string
	JSON       template.JS
	UPlotJS    template.JS
	UPlotCSS   template.CSS
	UPlotNotes string
	// ScriptSrc is a placeholder in the CSP that WritePage replaces with
	// the hashes of the page's inline scripts once they are rendered.
	ScriptSrc string
	// Older counts the crashes before the first day shown, OldestDay is
	// the day of the oldest: the page says so, and how to include them.
	Older     int
	OldestDay string
}

// chartData is what the page's script draws: day stamps, counts
// per cause (noon UTC of each local date, so the axis reads the same in
// every time zone), toggle marks, core-file bytes on disk and reclaimed.
type chartData struct {
	Days       []int64     `json:"days"`
	Labels     []string    `json:"labels"`
	ForkSafety []int       `json:"fork_safety"`
	ForkChild  []int       `json:"fork_child"`
	Other      []int       `json:"other"`
	Toggles    []toggleMap `json:"toggles"`
	OnDisk     []int64     `json:"core_on_disk"`
	Reclaimed  []int64     `json:"core_reclaimed"`
}

type toggleMap struct {
	X      float64 `json:"x"` // day stamp plus the fraction of the day
	Name   string  `json:"name"`
	On     bool    `json:"on"`
	Detail string  `json:"detail"`
	// Labels are the changes drawn at this mark: the toggle changes of the
	// same minute are one mark with one label line each (issue 32: marks
	// at the same moment were drawn over each other).
	Labels []string `json:"labels"`
}

// WritePage writes the history page for the crashes from opts.Since to
// opts.Now.
func (r *Reader) WritePage(ctx context.Context, w io.Writer, opts PageOptions) error {
	now := opts.Now.In(r.loc)
	if opts.Now.IsZero() {
		now = time.Now().In(r.loc)
	}
	if opts.Recent <= 0 {
		opts.Recent = 200
	}
	if opts.Title == "" {
		opts.Title = "Forkwatch: crash history"
	}
	since := opts.Since
	if since.IsZero() {
		var err error
		if since, err = r.defaultWindow(ctx, now); err != nil {
			return err
		}
	}
	since = since.In(r.loc)
	start := time.Date(since.Year(), since.Month(), since.Day(), 0, 0, 0, 0, r.loc)

	// Empty lists, not null: the page's script walks them (a history with
	// no toggle change, no crash or no core file renders without an error).
	cd := chartData{Days: []int64{}, Labels: []string{}, ForkSafety: []int{}, ForkChild: []int{}, Other: []int{}, Toggles: []toggleMap{}}
	var v pageView
	index, err := r.pageDays(ctx, start, now, &cd, &v)
	if err != nil {
		return err
	}
	if err := r.pageToggles(ctx, start, index, &cd, &v); err != nil {
		return err
	}
	if err := r.pageCores(ctx, start, &cd, &v); err != nil {
		return err
	}
	if err := r.pageGroups(ctx, start, &v); err != nil {
		return err
	}
	if err := r.pageRows(ctx, start, opts.Recent, &v); err != nil {
		return err
	}
	if err := r.db.QueryRowContext(ctx, `SELECT count(*), coalesce(min(day), '') FROM crashes WHERE time < ?`, start.Unix()).Scan(&v.Older, &v.OldestDay); err != nil {
		return fmt.Errorf("history: page: %w", err)
	}
	return renderPage(w, opts, now, cd, v)
}

// pageDays fills one bar per day from start to now, and the totals; it
// returns each day's index in the chart.
func (r *Reader) pageDays(ctx context.Context, start, now time.Time, cd *chartData, v *pageView) (map[string]int, error) {
	days, err := r.ByDay(ctx, start)
	if err != nil {
		return nil, err
	}
	byDay := map[string]Day{}
	for _, d := range days {
		byDay[d.Day] = d
	}
	// Empty lists, not null: the page's script walks them (a history with
	// no toggle change, no crash or no core file renders without an error).
	index := map[string]int{}
	for d := start; !d.After(now); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, r.loc) {
		label := d.Format(time.DateOnly)
		index[label] = len(cd.Days)
		// Noon, so that a bar centred on it spans its day and a toggle mark
		// falls inside the bar of its day.
		cd.Days = append(cd.Days, time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.UTC).Unix())
		cd.Labels = append(cd.Labels, label)
		x := byDay[label]
		cd.ForkSafety = append(cd.ForkSafety, x.ForkSafety)
		cd.ForkChild = append(cd.ForkChild, x.ForkChild)
		cd.Other = append(cd.Other, x.Other)
		v.Counts.Total += x.Total
		v.Counts.ForkSafety += x.ForkSafety
		v.Counts.ForkChild += x.ForkChild
		v.Counts.Other += x.Other
	}
	if v.Counts.Today, v.Counts.Week, err = r.Counts(ctx, now); err != nil {
		return nil, err
	}
	return index, nil

}

// pageToggles marks each toggle change on the day it happened.
func (r *Reader) pageToggles(ctx context.Context, start time.Time, index map[string]int, cd *chartData, v *pageView) error {
	toggles, err := r.Toggles(ctx, start)
	if err != nil {
		return err
	}
	for _, t := range toggles {
		lt := t.Time.In(r.loc)
		i, ok := index[lt.Format(time.DateOnly)]
		if !ok {
			continue
		}
		frac := float64(lt.Hour()*3600+lt.Minute()*60) / 86400
		x := float64(cd.Days[i]-43200) + frac*86400
		label := t.Name + " " + onOff(t.On)
		if n := len(cd.Toggles); n > 0 && cd.Toggles[n-1].X == x {
			// The same minute: one mark, one more label line.
			cd.Toggles[n-1].Labels = append(cd.Toggles[n-1].Labels, label)
			continue
		}
		cd.Toggles = append(cd.Toggles, toggleMap{X: x, Name: t.Name, On: t.On, Detail: t.Detail, Labels: []string{label}})
	}
	v.Toggles = toggles

	return nil
}

// pageCores sums the core files found, reclaimed and still on disk, and
// what was on disk each day.
func (r *Reader) pageCores(ctx context.Context, start time.Time, cd *chartData, v *pageView) error {
	cores, err := r.Cores(ctx, start)
	if err != nil {
		return err
	}
	cd.OnDisk = make([]int64, len(cd.Days))
	cd.Reclaimed = make([]int64, len(cd.Days))
	var found, reclaimed, onDisk int64
	for _, c := range cores {
		if !c.Found.Before(start) {
			v.CoreFound++
			found += c.Size
		}
		if !c.Removed.IsZero() && !c.Removed.Before(start) {
			reclaimed += c.Size
		}
		if c.Removed.IsZero() {
			onDisk += c.Size
		}
		for i, label := range cd.Labels {
			dayStart, _ := time.ParseInLocation(time.DateOnly, label, r.loc)
			end := dayStart.AddDate(0, 0, 1)
			if c.Found.Before(end) && (c.Removed.IsZero() || !c.Removed.Before(end)) {
				cd.OnDisk[i] += c.Size
			}
			if !c.Removed.IsZero() && c.Removed.Before(end) && !c.Removed.Before(start) {
				cd.Reclaimed[i] += c.Size
			}
		}
	}
	v.CoreBytes, v.Reclaimed, v.OnDisk = humanBytes(found), humanBytes(reclaimed), humanBytes(onDisk)

	return nil
}

// pageGroups fills the cards of the top programs, projects and runtimes.
func (r *Reader) pageGroups(ctx context.Context, start time.Time, v *pageView) error {
	for by, dst := range map[string]*[]pageGroup{"program": &v.Programs, "project": &v.Projects, "runtime": &v.Runtimes} {
		groups, err := r.GroupBy(ctx, by, start, 11)
		if err != nil {
			return err
		}
		max := 1
		for _, g := range groups {
			if g.Key == "" {
				continue
			}
			max = maxInt(max, g.Count)
		}
		for _, g := range groups {
			if g.Key == "" || len(*dst) == 10 {
				continue
			}
			key := g.Key
			if l := report.RuntimeLabel(g.Key); by == "runtime" && l != "" {
				key = l // "Ruby", "PHP", "Node.js"; other stays "other"
			}
			*dst = append(*dst, pageGroup{Key: key, Count: g.Count, Percent: 100 * float64(g.Count) / float64(max)})
		}
	}

	return nil
}

// pageRows lists the most recent crashes, newest first.
func (r *Reader) pageRows(ctx context.Context, start time.Time, recent int, v *pageView) error {
	crashes, err := r.Crashes(ctx, start, recent)
	if err != nil {
		return err
	}
	for _, c := range crashes {
		row := pageRow{Time: c.At.In(r.loc).Format("2006-01-02 15:04"), Program: c.Process, PID: c.PID, Project: c.Project,
			Cause: causeLabel(c.Cause), CLICause: c.Cause, Class: causeClass(c.Cause), Advice: c.Advice, Path: c.Path}
		// A crash loop's rows share its group; else a program's crashes of
		// one cause with the same advice do.
		row.group = c.Group
		if row.group == "" {
			row.group = c.Process + "\x00" + c.Cause + "\x00" + c.Advice
		}
		if c.Path != "" {
			// Built here from a path, never from report text: a file: URL is
			// the one scheme html/template would otherwise refuse.
			row.Link = template.URL((&url.URL{Scheme: "file", Path: c.Path}).String())
		}
		v.Rows = append(v.Rows, row)
	}
	sort.SliceStable(v.Rows, func(i, j int) bool { return v.Rows[i].Time > v.Rows[j].Time })
	adviceOncePerGroup(v.Rows)

	return nil
}

// renderPage executes the template and puts the hashes of its inline
// scripts into the CSP.
func renderPage(w io.Writer, opts PageOptions, now time.Time, cd chartData, v pageView) error {
	js, err := json.Marshal(cd) // escapes <, > and &: safe inside <script>
	if err != nil {
		return fmt.Errorf("history: page data: %w", err)
	}
	v.Title = opts.Title
	v.Generated = now.Format("2 January 2006, 15:04 MST")
	v.FirstDay, v.LastDay = cd.Labels[0], cd.Labels[len(cd.Labels)-1]
	v.JSON, v.UPlotJS, v.UPlotCSS = template.JS(js), template.JS(uplotJS), template.CSS(uplotCSS)
	v.UPlotNotes = uplotLicense
	v.ScriptSrc = scriptSrcPlaceholder
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("history: page: %w", err)
	}
	out, err := withScriptHashes(buf.Bytes())
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// scriptSrcPlaceholder stands for the CSP's script sources until the
// scripts are rendered (html/template leaves it as it is).
const scriptSrcPlaceholder = "FORKWATCH-SCRIPT-HASHES"

// inlineScript matches a script element that runs: <script> without a
// type (the data block, type="application/json", never runs and needs no
// hash). Its content ends at the first "</script", as the HTML parser's does.
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script`)

// withScriptHashes puts the SHA-256 of each inline script of the rendered
// page into its Content-Security-Policy, so that the page's own scripts run
// and no other inline script can: CSP Level 2's hash source, base64 of the
// digest of the script element's text (w3.org/TR/CSP2/#script-src-hash-usage).
// 'unsafe-inline' is not listed (browsers ignore it when a hash is present
// anyway).
func withScriptHashes(page []byte) ([]byte, error) {
	var srcs []string
	for _, m := range inlineScript.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[1])
		srcs = append(srcs, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(srcs) == 0 {
		srcs = []string{"'none'"}
	}
	if bytes.Count(page, []byte(scriptSrcPlaceholder)) != 1 {
		return nil, errors.New("history: page: the CSP placeholder is not in the template once")
	}
	return bytes.Replace(page, []byte(scriptSrcPlaceholder), []byte(strings.Join(srcs, " ")), 1), nil
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// adviceOncePerGroup keeps the advice on the first (newest) row of each
// group and points the others at it (issue 32: every row repeated the
// whole advice).
func adviceOncePerGroup(rows []pageRow) {
	first := map[string]string{}
	for i := range rows {
		if rows[i].Advice == "" {
			continue
		}
		if at, ok := first[rows[i].group]; ok {
			rows[i].SameAs, rows[i].Advice = "same advice as "+at, ""
			continue
		}
		first[rows[i].group] = rows[i].Program + " at " + rows[i].Time
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// causeLabel is the wording of the page's legend.
func causeLabel(c string) string {
	switch c {
	case report.CauseForkSafety:
		return "fork-safety check"
	case report.CauseForkChild:
		return "death after fork"
	default:
		return "other crash"
	}
}

// causeClass is the CSS class of a cause's colour dot.
func causeClass(c string) string {
	switch c {
	case report.CauseForkSafety:
		return "fork-safety-check"
	case report.CauseForkChild:
		return "death-after-fork"
	default:
		return "other-crash"
	}
}

func humanBytes(n int64) string { return report.HumanBytes(n) }

// Default window of the page: the last 30 days, reaching back to the
// oldest crash of the last 90 days, so that the chart fits the recent data
// (a single crash a year ago no longer stretches it to a year of 1-pixel
// bars). Crashes before the window are counted on the
// page with the command that includes them.
const (
	pageMinDays  = 30
	pageReachDay = 90
)

func (r *Reader) defaultWindow(ctx context.Context, now time.Time) (time.Time, error) {
	since := now.AddDate(0, 0, -(pageMinDays - 1))
	reach := now.AddDate(0, 0, -(pageReachDay - 1))
	reach = time.Date(reach.Year(), reach.Month(), reach.Day(), 0, 0, 0, 0, r.loc)
	var recent string
	if err := r.db.QueryRowContext(ctx, `SELECT coalesce(min(day), '') FROM crashes WHERE time >= ?`, reach.Unix()).Scan(&recent); err != nil {
		return since, fmt.Errorf("history: page: %w", err)
	}
	if t, err := time.ParseInLocation(time.DateOnly, recent, r.loc); err == nil && t.Before(since) {
		return t, nil
	}
	return since, nil
}
