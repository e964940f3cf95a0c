package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
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
	Crashes     []monitor.Report // any order; BuildMenu sorts newest first
	Unseen      int
	Cores       []monitor.CoreFile
	CoreDir     string
	Toggles     []ToggleView
	PausedUntil time.Time
	Problem     string // a watcher problem worth a line (folder unreadable)
	// FileManager names the file manager in "Reveal in ..." (Finder on macOS).
	FileManager string
}

// ToggleView is a toggle as the menu shows it.
type ToggleView struct {
	Name  string
	Label string
	State settings.State
	Busy  bool // a change is under way (a password prompt may be open)
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

// BuildMenu lays the menu out.
func BuildMenu(s MenuState) []Item {
	var items []Item
	add := func(it Item) { items = append(items, it) }

	add(Item{ID: "status", Title: statusLine(s), Disabled: true})
	if s.Problem != "" {
		add(Item{ID: "problem", Title: "⚠ " + truncate(s.Problem, 70), Tooltip: s.Problem, Disabled: true})
	} else {
		add(Item{ID: "problem", Hidden: true, Disabled: true})
	}

	// Recent crashes, newest first.
	crashes := recentCrashes(s.Crashes)
	add(Item{ID: "recent", Title: "Recent crashes", Disabled: true, Separator: true})
	add(Item{ID: "recent.none", Title: "None recorded", Disabled: true, Hidden: len(crashes) > 0})
	for i := 0; i < maxRecent; i++ {
		id := fmt.Sprintf("crash.%d", i)
		if i >= len(crashes) {
			add(Item{ID: id, Hidden: true})
			add(Item{ID: id + ".open", Parent: id, Title: "Open Report in Console"})
			add(Item{ID: id + ".advice", Parent: id, Disabled: true})
			add(Item{ID: id + ".copy", Parent: id, Title: "Copy Advice"})
			continue
		}
		r := crashes[i]
		add(Item{ID: id, Title: crashLabel(r, s.Now), Tooltip: r.Path})
		add(Item{ID: id + ".open", Parent: id, Title: "Open Report in Console", Disabled: r.Path == ""})
		add(Item{ID: id + ".advice", Parent: id, Title: truncate(r.Advice, 90), Tooltip: r.Advice, Disabled: true, Hidden: r.Advice == ""})
		add(Item{ID: id + ".copy", Parent: id, Title: "Copy Advice", Disabled: r.Advice == ""})
	}
	add(Item{ID: "seen", Title: fmt.Sprintf("Mark %d New as Seen", s.Unseen), Hidden: s.Unseen == 0})

	// Core files.
	var total int64
	for _, c := range s.Cores {
		total += c.Size
	}
	coreLine := "Core files: none"
	switch {
	case s.CoreDir == "":
		coreLine = "Core files: folder unknown"
	case len(s.Cores) == 1:
		coreLine = fmt.Sprintf("1 core file, %s in %s", humanBytes(total), s.CoreDir)
	case len(s.Cores) > 1:
		coreLine = fmt.Sprintf("%d core files, %s in %s", len(s.Cores), humanBytes(total), s.CoreDir)
	default:
		coreLine = "No core files in " + s.CoreDir
	}
	add(Item{ID: "cores", Title: coreLine, Disabled: true, Separator: true})
	fm := s.FileManager
	if fm == "" {
		fm = "Finder"
	}
	add(Item{ID: "cores.reveal", Title: "Reveal in " + fm, Disabled: s.CoreDir == ""})
	add(Item{ID: "cores.trash", Title: "Move to Trash…", Disabled: len(s.Cores) == 0})

	// The toggles: the check mark is the state read back from the system.
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
		add(Item{ID: "toggle." + t.Name, Title: title, Tooltip: tip, Checkbox: true, Checked: t.State.On, Disabled: t.Busy, Separator: i == 0})
		conflicts = append(conflicts, t.State.Conflicts...)
	}
	if len(conflicts) > 0 {
		add(Item{ID: "conflicts", Title: "⚠ " + truncate(conflicts[0], 70), Tooltip: strings.Join(conflicts, "\n"), Disabled: true})
	} else {
		add(Item{ID: "conflicts", Hidden: true, Disabled: true})
	}

	paused := s.Now.Before(s.PausedUntil)
	pauseTitle := "Pause Notifications"
	if paused {
		pauseTitle = "Notifications Paused Until " + s.PausedUntil.Format("Mon 15:04")
	}
	add(Item{ID: "pause", Title: pauseTitle, Separator: true})
	add(Item{ID: "pause.hour", Parent: "pause", Title: "For 1 Hour"})
	add(Item{ID: "pause.tomorrow", Parent: "pause", Title: "Until Tomorrow"})
	add(Item{ID: "pause.resume", Parent: "pause", Title: "Resume Now", Hidden: !paused})
	add(Item{ID: "about", Title: "About the Fork-Safety Crash…"})
	add(Item{ID: "quit", Title: "Quit Forkwatch"})
	return items
}

// recentCrashes keeps the crashes worth listing (Python, or any death after
// fork), newest first, at most maxRecent.
func recentCrashes(all []monitor.Report) []monitor.Report {
	var out []monitor.Report
	for _, r := range all {
		if r.Python || r.ForkChild {
			out = append(out, r)
		}
	}
	at := func(r monitor.Report) time.Time {
		t, _ := time.Parse(time.RFC3339, r.Time)
		return t
	}
	sort.SliceStable(out, func(i, j int) bool { return at(out[i]).After(at(out[j])) })
	if len(out) > maxRecent {
		out = out[:maxRecent]
	}
	return out
}

// statusLine is the title line: the state in words.
func statusLine(s MenuState) string {
	today := s.Now.Format("2006-01-02")
	var n, fork int
	var last time.Time
	for _, r := range s.Crashes {
		if !r.Python {
			continue
		}
		t, err := time.Parse(time.RFC3339, r.Time)
		if err != nil || t.In(s.Now.Location()).Format("2006-01-02") != today {
			continue
		}
		n++
		if r.ForkChild {
			fork++
		}
		if t.After(last) {
			last = t
		}
	}
	switch {
	case n == 0:
		return "No Python crashes today"
	case fork == n:
		return fmt.Sprintf("%d Python %s after fork() — last %s", n, plural(n, "crash", "crashes"), last.In(s.Now.Location()).Format("15:04"))
	default:
		return fmt.Sprintf("%d Python %s today (%d after fork()) — last %s", n, plural(n, "crash", "crashes"), fork, last.In(s.Now.Location()).Format("15:04"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// crashLabel is "14:02  Python (4242) — fork-safety".
func crashLabel(r monitor.Report, now time.Time) string {
	when := "?"
	if t, err := time.Parse(time.RFC3339, r.Time); err == nil {
		t = t.In(now.Location())
		if t.Format("2006-01-02") == now.Format("2006-01-02") {
			when = t.Format("15:04")
		} else {
			when = t.Format("Jan 2 15:04")
		}
	}
	proc := truncate(orDash(r.Process), 30)
	if r.PID != 0 {
		proc += fmt.Sprintf(" (%d)", r.PID)
	}
	return when + "  " + proc + " — " + r.Cause
}

func truncate(s string, n int) string {
	s = monitor.Clean(s, 4096)
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
