package tray

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/report"

	"github.com/forkwatch/forkwatch/settings"
)

// The menu is a pure function of MenuState: BuildMenu returns every item
// with its label, check mark, enabled and visible flags. The tray binding
// only copies that onto systray items; getlantern/systray cannot remove
// items, so the layout is fixed (maxRecent crash slots, preallocated) and
// items are hidden rather than removed.

const maxRecent = 10

// MenuState is everything the menu shows.
type MenuState struct {
	Now         time.Time
	Crashes     []report.Report // any order; BuildMenu sorts newest first
	Unseen      int
	Cores       []report.CoreFile
	CoreDir     string
	Toggles     []ToggleView
	PausedUntil time.Time
	Problem     string // a watcher problem worth a line (folder unreadable)
	// FileManager names the file manager in "Reveal in ..." (Finder on macOS).
	FileManager string
	// TrashNote is the help of Move to Trash… (desktop.TrashNote: no Put
	// Back on macOS).
	TrashNote string
	// Traces are the interpreters and venvs fork tracing can be turned on
	// for, with the state read back from their site-packages.
	Traces []TraceView
	// NotifyPath says how notifications are delivered (About shows it).
	NotifyPath string
	// Working names slow work under way (a probe), shown on its item.
	Working map[string]bool
	// Counts, when known, are the notable crashes (report.Notable) today
	// and in the last seven days from the history (the Crashes list is
	// only the latest).
	Counts *CrashCounts
	// ExportLine says where events are exported and how many wait in the
	// outbox (About shows it; "" when export is off).
	ExportLine string
	// TracingRefused: a profile turned fork tracing off.
	TracingRefused bool
	// Risky are the first-risky-fork warnings of this run (issue 30),
	// newest first, at most maxRisky.
	Risky []monitor.RiskyFork
	// CanCheckProject: a folder chooser exists ("Check a Project…" is
	// shown: osascript's choose folder on macOS, zenity elsewhere).
	CanCheckProject bool
}

// maxRisky is how many at-risk lines the menu keeps.
const maxRisky = 3

// riskyItems: one line per first risky fork ("At risk: gunicorn in
// ~/src/shop forks from a threaded process at app.py:12"), its fix as a
// disabled line beneath, each slot hidden when empty.
func riskyItems(s MenuState) []Item {
	var items []Item
	for i := 0; i < maxRisky; i++ {
		id := fmt.Sprintf("risk.%d", i)
		if i >= len(s.Risky) {
			items = append(items, Item{ID: id, Hidden: true, Disabled: true}, Item{ID: id + ".fix", Parent: id, Hidden: true, Disabled: true})
			continue
		}
		w := s.Risky[i]
		title := "At risk: " + notify.RiskyForkTitle(w)
		tip := w.Reason + ". " + w.Meaning
		if len(w.Threads) > 0 {
			tip += " Threads: " + strings.Join(w.Threads, ", ") + "."
		}
		items = append(items,
			Item{ID: id, Title: wording.Truncate(title, 90), Tooltip: tip},
			Item{ID: id + ".fix", Parent: id, Title: "Fix: " + wording.Truncate(w.Fix, 120), Tooltip: w.Fix, Disabled: true})
	}
	return items
}

// addRisky lists a warning first, keeping maxRisky.
func (s *MenuState) addRisky(w monitor.RiskyFork) {
	s.Risky = append([]monitor.RiskyFork{w}, s.Risky...)
	if len(s.Risky) > maxRisky {
		s.Risky = s.Risky[:maxRisky]
	}
}

// CrashCounts are the history's counts for the status line, and the
// number of crashes of each crash loop (by group) in the last 7 days.
type CrashCounts struct {
	Today, Week int
	Groups      map[string]int
	// Runtimes counts today's crashes by runtime (report.Runtimes).
	Runtimes map[string]int
}

// TraceView is one interpreter or venv in the Fork Tracing submenu.
type TraceView struct {
	Label  string
	Target string
	On     bool
	Busy   bool
}

// maxTraces is how many interpreters the Fork Tracing submenu lists.
const maxTraces = 8

// ToggleView is a toggle as the menu shows it.
type ToggleView struct {
	Name  string
	Label string
	State settings.State
	Busy  bool // a change is under way (a password prompt may be open)
	// Managed: a configuration profile enforces this toggle; the item is
	// greyed and says so.
	Managed bool
	// MacOnly: the toggle exists only on macOS (settings.ErrMacOnly) and
	// this is not macOS; the item is greyed and says so.
	MacOnly bool
	// Translocated: this copy runs from an App Translocation path, which
	// is never registered as a login item: the item says to move
	// Forkwatch to Applications first.
	Translocated bool
}

// Item is one menu entry. IDs are stable: the binding creates each once.
type Item struct {
	ID       string
	Parent   string
	Title    string
	Tooltip  string
	Checkbox bool
	Checked  bool
	Disabled bool
	Hidden   bool
	// Separator marks a separator line placed before this item.
	Separator bool
}

// BuildMenu lays the menu out, section by section, top to bottom.
func BuildMenu(s MenuState) []Item {
	var items []Item
	for _, section := range []func(MenuState) []Item{
		statusItems, riskyItems, recentItems, coreItems, toggleItems, pauseItems, pageItems, traceItems, aboutItems,
	} {
		items = append(items, section(s)...)
	}
	return items
}

// statusItems: the counts line, and a watcher problem worth a line.
func statusItems(s MenuState) []Item {
	items := []Item{{ID: "status", Title: statusLine(s), Disabled: true}}
	if s.Problem != "" {
		return append(items, Item{ID: "problem", Title: "⚠ " + wording.Truncate(s.Problem, 70), Tooltip: s.Problem, Disabled: true})
	}
	return append(items, Item{ID: "problem", Hidden: true, Disabled: true})
}

// recentItems: recent crashes, newest first; a crash loop (one live
// parent) is one line with a count. Each of the maxRecent slots exists,
// hidden when empty.
func recentItems(s MenuState) []Item {
	var groups map[string]int
	if s.Counts != nil {
		groups = s.Counts.Groups
	}
	entries := recentEntries(s.Crashes, groups)
	items := []Item{
		{ID: "recent", Title: "Recent crashes", Disabled: true, Separator: true},
		{ID: "recent.none", Title: "None recorded", Disabled: true, Hidden: len(entries) > 0},
	}
	for i := 0; i < maxRecent; i++ {
		id := fmt.Sprintf("crash.%d", i)
		if i >= len(entries) {
			items = append(items, emptyCrashItems(id)...)
			continue
		}
		items = append(items, crashItems(id, entries[i], s.Now)...)
	}
	return append(items, Item{ID: "seen", Title: fmt.Sprintf("Mark %d New as Seen", s.Unseen), Hidden: s.Unseen == 0})
}

// emptyCrashItems is a crash slot and its submenu, hidden.
func emptyCrashItems(id string) []Item {
	return []Item{
		{ID: id, Hidden: true},
		{ID: id + ".open", Parent: id, Title: "Open Report in Console"},
		{ID: id + ".debug", Parent: id, Title: "Debug in lldb…"},
		{ID: id + ".advice", Parent: id, Disabled: true},
		{ID: id + ".site", Parent: id, Disabled: true, Hidden: true},
		{ID: id + ".tool", Parent: id, Disabled: true, Hidden: true},
		{ID: id + ".copy", Parent: id, Title: "Copy Fix"},
		{ID: id + ".project", Parent: id, Title: "Open Project Folder", Hidden: true},
	}
}

// crashItems is the line of one entry and its submenu: open, debug, the
// fix, where it forked, the tool and how it was recognised (so that a user
// can judge the fix), copy the fix, the project folder.
func crashItems(id string, e crashEntry, now time.Time) []Item {
	r := e.Latest
	fix, site := notify.FixOrAdvice(r), notify.ForkSiteLine(r)
	tool := ""
	if r.Framework != "" && r.FrameworkEvidence != "" {
		tool = "Tool: " + r.Framework + " (from the " + r.FrameworkEvidence + ")"
	}
	return []Item{
		{ID: id, Title: crashLabel(e, now), Tooltip: crashTooltip(e)},
		{ID: id + ".open", Parent: id, Title: "Open Report in Console", Disabled: r.Path == ""},
		{ID: id + ".debug", Parent: id, Title: "Debug in lldb…", Tooltip: "Opens Terminal with lldb's crashlog on this report", Disabled: r.Path == ""},
		{ID: id + ".advice", Parent: id, Title: wording.Truncate(fix, 90), Tooltip: fix, Disabled: true, Hidden: fix == ""},
		{ID: id + ".site", Parent: id, Title: wording.Truncate(site, 90), Tooltip: site, Disabled: true, Hidden: site == ""},
		{ID: id + ".tool", Parent: id, Title: tool, Disabled: true, Hidden: tool == ""},
		{ID: id + ".copy", Parent: id, Title: "Copy Fix", Disabled: fix == ""},
		{ID: id + ".project", Parent: id, Title: "Open Project Folder", Hidden: notify.ProjectOf(r) == ""},
	}
}

// coreItems: the core files' count and size, reveal, move to the Trash.
func coreItems(s MenuState) []Item {
	var total int64
	for _, c := range s.Cores {
		total += c.Size
	}
	var coreLine string
	switch {
	case s.CoreDir == "":
		coreLine = "Core files: folder unknown"
	case len(s.Cores) == 1:
		coreLine = fmt.Sprintf("1 core file, %s in %s", wording.HumanBytes(total), s.CoreDir)
	case len(s.Cores) > 1:
		coreLine = fmt.Sprintf("%d core files, %s in %s", len(s.Cores), wording.HumanBytes(total), s.CoreDir)
	default:
		coreLine = "No core files in " + s.CoreDir
	}
	fm := s.FileManager
	if fm == "" {
		fm = "Finder"
	}
	return []Item{
		{ID: "cores", Title: coreLine, Disabled: true, Separator: true},
		{ID: "cores.reveal", Title: "Reveal in " + fm, Disabled: s.CoreDir == ""},
		{ID: "cores.trash", Title: "Move to Trash…", Tooltip: s.TrashNote, Disabled: len(s.Cores) == 0},
	}
}

// toggleItems: the toggles, whose check mark is the state read back from
// the system, and the first conflict found.
func toggleItems(s MenuState) []Item {
	var items []Item
	var conflicts []string
	for i, t := range s.Toggles {
		title := t.Label
		tip := t.State.Detail
		if t.Busy {
			title += " (working…)"
		}
		if t.State.Error != "" {
			tip = "Could not read: " + t.State.Error
		}
		if t.Managed {
			title += " — " + policy.ManagedReason
			tip = policy.ManagedReason + ". " + tip
		}
		if t.MacOnly {
			title, tip = t.Label+" (macOS only)", t.State.Detail
		}
		// Turning it on would register a temporary copy: only off is offered.
		stuck := t.Translocated && !t.State.On
		if t.Translocated {
			title += " — " + translocatedTitle
		}
		items = append(items, Item{ID: "toggle." + t.Name, Title: title, Tooltip: tip, Checkbox: true, Checked: t.State.On && !t.MacOnly, Disabled: t.Busy || t.Managed || t.MacOnly || stuck, Separator: i == 0})
		conflicts = append(conflicts, t.State.Conflicts...)
	}
	if len(conflicts) > 0 {
		return append(items, Item{ID: "conflicts", Title: "⚠ " + wording.Truncate(conflicts[0], 70), Tooltip: strings.Join(conflicts, "\n"), Disabled: true})
	}
	return append(items, Item{ID: "conflicts", Hidden: true, Disabled: true})
}

// pauseItems: pausing notifications, and resuming.
func pauseItems(s MenuState) []Item {
	paused := s.Now.Before(s.PausedUntil)
	pauseTitle := "Pause Notifications"
	if paused {
		pauseTitle = "Notifications Paused Until " + s.PausedUntil.Format("Mon 15:04")
	}
	return []Item{
		{ID: "pause", Title: pauseTitle, Separator: true},
		{ID: "pause.hour", Parent: "pause", Title: "For 1 Hour"},
		{ID: "pause.tomorrow", Parent: "pause", Title: "Until Tomorrow"},
		{ID: "pause.resume", Parent: "pause", Title: "Resume Now", Hidden: !paused},
	}
}

// pageItems: the pages (the check of this Mac, the probe, the history),
// each marked while its work is under way.
func pageItems(s MenuState) []Item {
	return []Item{
		{ID: "doctor", Title: workingTitle("Check This Mac…", s.Working["doctor"]), Disabled: s.Working["doctor"], Separator: true},
		{ID: "probe", Title: workingTitle("Test Fork Safety…", s.Working["probe"]), Disabled: s.Working["probe"]},
		{ID: "history", Title: workingTitle("Crash History…", s.Working["history"]), Disabled: s.Working["history"]},
		{ID: "checkproject", Title: workingTitle("Check a Project…", s.Working["checkproject"]), Disabled: s.Working["checkproject"], Hidden: !s.CanCheckProject},
	}
}

// traceItems: the Fork Tracing submenu, maxTraces slots. Why a Python is
// missing here, and what to do: system, Apple and distributor-managed (PEP
// 668) Pythons are never changed, so they are not offered
// (forktrace.ErrRefused); a venv made from them is.
func traceItems(s MenuState) []Item {
	items := []Item{
		{ID: "trace", Title: "Fork Tracing"},
		{ID: "trace.none", Parent: "trace", Title: "No venv or interpreter you can trace yet", Disabled: true, Hidden: len(s.Traces) > 0},
	}
	for i := 0; i < maxTraces; i++ {
		id := fmt.Sprintf("trace.%d", i)
		if i >= len(s.Traces) {
			items = append(items, Item{ID: id, Parent: "trace", Checkbox: true, Hidden: true})
			continue
		}
		tv := s.Traces[i]
		tip := tv.Target
		if s.TracingRefused {
			tip = "Fork tracing is turned off: " + policy.ManagedReason
		}
		items = append(items, Item{ID: id, Parent: "trace", Title: workingTitle(wording.Truncate(tv.Label, 60), tv.Busy), Tooltip: tip, Checkbox: true, Checked: tv.On, Disabled: tv.Busy || (s.TracingRefused && !tv.On)})
	}
	return append(items,
		Item{ID: "trace.why", Parent: "trace", Title: "System and distributor Pythons are not offered (Forkwatch never changes them)", Disabled: true},
		Item{ID: "trace.how", Parent: "trace", Title: "Trace a venv instead: forkwatch trace enable ~/src/PROJECT/.venv", Disabled: true})
}

// aboutItems: the explanation, how notifications go, the export line, quit.
func aboutItems(s MenuState) []Item {
	return []Item{
		{ID: "about", Title: "About the Fork-Safety Crash…", Tooltip: s.NotifyPath},
		{ID: "about.notify", Title: s.NotifyPath, Disabled: true, Hidden: s.NotifyPath == ""},
		{ID: "about.export", Title: wording.Truncate(s.ExportLine, 80), Tooltip: s.ExportLine, Disabled: true, Hidden: s.ExportLine == ""},
		{ID: "quit", Title: "Quit Forkwatch"},
	}
}

// crashEntry is one line of the recent list: a crash, or the crashes of one
// crash loop (the same live parent), shown by the newest.
type crashEntry struct {
	Latest report.Report
	Count  int
	First  time.Time
}

func reportTime(r report.Report) time.Time {
	t, _ := time.Parse(time.RFC3339, r.Time)
	return t
}

// recentEntries keeps the crashes worth listing (report.Notable: any death
// after fork, whatever the runtime, or a Python crash), folds each crash loop into one entry, newest first, at most
// maxRecent. Probe results are not listed: they are test runs. groups, from
// the history, counts each loop beyond the crashes held in memory.
func recentEntries(all []report.Report, groups map[string]int) []crashEntry {
	var out []crashEntry
	byGroup := map[string]int{}
	for _, r := range all {
		if !report.Notable(&r) {
			continue
		}
		t := reportTime(r)
		if r.Group != "" {
			if i, ok := byGroup[r.Group]; ok {
				e := &out[i]
				e.Count++
				if t.After(reportTime(e.Latest)) {
					e.Latest = r
				}
				if t.Before(e.First) {
					e.First = t
				}
				continue
			}
			byGroup[r.Group] = len(out)
		}
		out = append(out, crashEntry{Latest: r, Count: 1, First: t})
	}
	for i := range out {
		if n := groups[out[i].Latest.Group]; out[i].Latest.Group != "" && n > out[i].Count {
			out[i].Count = n
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return reportTime(out[i].Latest).After(reportTime(out[j].Latest)) })
	if len(out) > maxRecent {
		out = out[:maxRecent]
	}
	return out
}

// recentCrashes is the newest crash of each listed entry, in menu order.
func recentCrashes(all []report.Report) []report.Report {
	var out []report.Report
	for _, e := range recentEntries(all, nil) {
		out = append(out, e.Latest)
	}
	return out
}

// statusLine is the title line: the state in words, today and the last
// seven days. It counts the crashes report.Notable picks (deaths after
// fork() of any runtime, other Python crashes), names the runtime when
// all of today's share one ("2 Python crashes after fork()", "1 Ruby
// crash after fork()") and breaks them down when they do not ("3
// crashes after fork() today (2 Ruby, 1 Python)").
func statusLine(s MenuState) string {
	loc := s.Now.Location()
	y, m, d := s.Now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	weekStart := today.AddDate(0, 0, -6)
	var n, fork, week int
	var last time.Time
	byRuntime := map[string]int{}
	for _, r := range s.Crashes {
		if !report.Notable(&r) {
			continue
		}
		t, err := time.Parse(time.RFC3339, r.Time)
		if err != nil || t.After(s.Now.Add(time.Hour)) {
			continue
		}
		if !t.Before(weekStart) {
			week++
		}
		if t.Before(today) {
			continue
		}
		n++
		byRuntime[report.RuntimeOrOther(&r)]++
		if r.ForkChild {
			fork++
		}
		if t.After(last) {
			last = t
		}
	}
	// The history counts every crash, the list holds only the latest ones:
	// where the history knows more, its counts win (without the fork split,
	// which it does not give).
	forkKnown := true
	if s.Counts != nil {
		if s.Counts.Week > week {
			week = s.Counts.Week
		}
		if s.Counts.Today > n {
			n, forkKnown = s.Counts.Today, false
			if len(s.Counts.Runtimes) > 0 {
				byRuntime = s.Counts.Runtimes
			}
		}
	}
	weekPart := ""
	if week > n {
		weekPart = fmt.Sprintf(", %d in 7 days", week)
	}
	// "last 15:04" only when a crash of today has a time: the history may
	// count one whose report gave none (an excerpt), and a zero time would
	// read "last 00:00".
	lastPart := ""
	if !last.IsZero() {
		lastPart = " — last " + last.In(loc).Format("15:04")
	}
	one, many, split := countNouns(byRuntime)
	noun := wording.Plural(n, one, many)
	switch {
	case n == 0 && week == 0:
		return "No crashes today"
	case n == 0:
		return fmt.Sprintf("No crashes today (%d in 7 days)", week)
	case !forkKnown:
		return fmt.Sprintf("%d %s today%s%s%s", n, noun, parens(split), weekPart, lastPart)
	case fork == n && weekPart == "" && split == "":
		return fmt.Sprintf("%d %s after fork()%s", n, noun, lastPart)
	case fork == n:
		return fmt.Sprintf("%d %s after fork() today%s%s%s", n, noun, parens(split), weekPart, lastPart)
	default:
		inner := fmt.Sprintf("%d after fork()", fork)
		if split != "" {
			inner += "; " + split
		}
		return fmt.Sprintf("%d %s today (%s)%s%s", n, noun, inner, weekPart, lastPart)
	}
}

// countNouns words the status line's count from today's crashes by
// runtime: "Python crash"/"Python crashes" when one runtime has them all
// ("sentry-cli" is no runtime: other is "crash"), else "crash"/"crashes"
// and a breakdown, most first: "2 Ruby, 1 Python".
func countNouns(byRuntime map[string]int) (one, many, split string) {
	var rts []string
	for rt, k := range byRuntime {
		if k > 0 {
			rts = append(rts, rt)
		}
	}
	if len(rts) == 1 {
		if l := report.RuntimeLabel(rts[0]); l != "" {
			return l + " crash", l + " crashes", ""
		}
	}
	if len(rts) <= 1 {
		return "crash", "crashes", ""
	}
	sort.Slice(rts, func(i, j int) bool {
		if byRuntime[rts[i]] != byRuntime[rts[j]] {
			return byRuntime[rts[i]] > byRuntime[rts[j]]
		}
		return runtimeRank(rts[i]) < runtimeRank(rts[j])
	})
	var parts []string
	for _, rt := range rts {
		l := report.RuntimeLabel(rt)
		if l == "" {
			l = rt
		}
		parts = append(parts, fmt.Sprintf("%d %s", byRuntime[rt], l))
	}
	return "crash", "crashes", strings.Join(parts, ", ")
}

// runtimeRank orders runtimes with equal counts as report.Runtimes does
// (python first, other last).
func runtimeRank(rt string) int {
	for i, r := range report.Runtimes {
		if r == rt {
			return i
		}
	}
	return len(report.Runtimes)
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// whenLabel is a short date: the time today, the day this year, the year
// otherwise.
func whenLabel(t, now time.Time) string {
	t = t.In(now.Location())
	switch {
	case t.Format("2006-01-02") == now.Format("2006-01-02"):
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 2 15:04")
	default:
		return t.Format("Jan 2 2006 15:04")
	}
}

// crashLabel is "14:02  Python (4242) — fork-safety", or with attribution
// "14:02  gunicorn (shop) — 37× fork-safety" for a crash loop.
func crashLabel(e crashEntry, now time.Time) string {
	r := e.Latest
	when := "?"
	if t, err := time.Parse(time.RFC3339, r.Time); err == nil {
		when = whenLabel(t, now)
	}
	who := notify.ProgramProject(r)
	if who == "" {
		who = wording.Truncate(wording.OrDash(r.Process), 30)
		if r.PID != 0 && e.Count == 1 {
			who += fmt.Sprintf(" (%d)", r.PID)
		}
	}
	cause := r.Cause
	if e.Count > 1 {
		cause = fmt.Sprintf("%d× %s", e.Count, cause)
	}
	return when + "  " + wording.Truncate(who, 40) + " — " + cause
}

func crashTooltip(e crashEntry) string {
	r := e.Latest
	var parts []string
	if r.ParentCommand != "" {
		parts = append(parts, "Started as: "+r.ParentCommand)
	}
	if r.Project != "" {
		parts = append(parts, "Project: "+r.Project)
	}
	if e.Count > 1 {
		parts = append(parts, fmt.Sprintf("%d crashes since %s", e.Count, e.First.Format("Jan 2 15:04")))
	}
	if r.Path != "" {
		parts = append(parts, r.Path)
	}
	return strings.Join(parts, "\n")
}

// workingTitle marks an item whose work is under way.
func workingTitle(title string, busy bool) string {
	if busy {
		return strings.TrimSuffix(title, "…") + " (working…)"
	}
	return title
}

// pauseEnd is when notifications resume for a click on pause.hour (in an
// hour), pause.tomorrow (8:00 tomorrow) or pause.resume (now: the zero
// time); ok is false for any other id.
func pauseEnd(id string, now time.Time) (until time.Time, ok bool) {
	switch id {
	case "pause.hour":
		return now.Add(time.Hour), true
	case "pause.tomorrow":
		y, m, d := now.Date()
		return time.Date(y, m, d+1, 8, 0, 0, 0, now.Location()), true
	case "pause.resume":
		return time.Time{}, true
	}
	return time.Time{}, false
}

// addCrash lists a crash (the newest 200 are kept) and counts it as unseen
// when it is worth a notification and new (not one found at start-up).
func (s *MenuState) addCrash(r *report.Report, earlier bool) {
	s.Crashes = append(s.Crashes, *r)
	if n := len(s.Crashes); n > 200 {
		s.Crashes = s.Crashes[n-200:]
	}
	if !earlier && report.Notable(r) {
		s.Unseen++
	}
	s.Problem = ""
}

// startWork marks id's item as working; false if it already is.
func (s *MenuState) startWork(id string) bool {
	if s.Working[id] {
		return false
	}
	if s.Working == nil {
		s.Working = map[string]bool{}
	}
	s.Working[id] = true
	return true
}
