package tray

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
)

func riskyEvent(site string, threads ...string) monitor.Event {
	return monitor.Event{Kind: monitor.KindRiskyFork, Risk: &monitor.RiskyFork{
		Key: "k" + site, Program: "gunicorn", Project: "/home/u/src/shop", Site: site, Tool: "gunicorn",
		Fix: "Do not preload the app.", Reason: "exited without exec", Threads: threads, Meaning: monitor.RiskyForkMeaning,
	}}
}

// TestRiskyForkMenuAndNotification: a first-risky-fork event is one menu
// line (its fix beneath) and one notification naming the site, the threads
// and the fix; while alerts are paused it is listed but not notified, and
// the menu keeps the newest maxRisky.
func TestRiskyForkMenuAndNotification(t *testing.T) {
	c, ui, _, n, _, _ := newTestController(t)
	c.Events <- riskyEvent("app.py:12", "MainThread", "poller")
	eventually(t, "the at-risk line", func() bool {
		return ui.item("risk.0").Title == "At risk: gunicorn in /home/u/src/shop forks from a threaded process at app.py:12"
	})
	if it := ui.item("risk.0.fix"); it.Hidden || !strings.Contains(it.Title, "Do not preload") || it.Parent != "risk.0" {
		t.Errorf("fix line: %+v", it)
	}
	if !ui.item("risk.1").Hidden {
		t.Error("an empty slot is shown")
	}
	eventually(t, "one notification", func() bool { return strings.Contains(n.All(), "At risk: gunicorn") })
	sent := n.All()
	for _, want := range []string{"app.py:12", "Threads: MainThread, poller", "Do not preload", "macOS's", "everyone's"} {
		if !strings.Contains(sent, want) {
			t.Errorf("notification lacks %q: %s", want, sent)
		}
	}
	c.cfg.Alerter.PauseUntil(time.Now().Add(time.Hour))
	for _, s := range []string{"b.py:1", "c.py:2", "d.py:3"} {
		c.Events <- riskyEvent(s)
	}
	eventually(t, "the newest three", func() bool {
		return strings.HasSuffix(ui.item("risk.0").Title, "d.py:3") && strings.HasSuffix(ui.item("risk.2").Title, "b.py:1")
	})
	if got := strings.Count(n.All(), "At risk:"); got != 1 {
		t.Errorf("%d notifications while paused: %s", got, n.All())
	}
}

// TestCheckProjectItem: hidden without a chooser; with one, a click checks
// the folder chosen and notifies the verdict; Cancel checks nothing; a
// chooser that fails is said.
func TestCheckProjectItem(t *testing.T) {
	_, ui, _, _, _, _ := newTestController(t)
	eventually(t, "the menu", func() bool { return ui.item("checkproject").ID == "checkproject" })
	if !ui.item("checkproject").Hidden {
		t.Error("Check a Project… shown with no folder chooser")
	}
	type answer struct {
		dir string
		ok  bool
		err error
	}
	answers := make(chan answer, 3)
	checked := make(chan string, 3)
	c, ui2, _, n, _, _ := newTestController(t)
	c.results <- func() {
		c.cfg.ChooseFolder = func(context.Context, string) (string, bool, error) {
			select {
			case a := <-answers:
				return a.dir, a.ok, a.err
			default:
				return "", false, errors.New("osascript: boom")
			}
		}
		c.cfg.CheckProject = func(dir string) (string, string, error) {
			checked <- dir
			return "At risk: 1 setting in ~/src/shop", "gunicorn (Procfile:1)", nil
		}
		c.state.CanCheckProject = true
	}
	eventually(t, "the item", func() bool { it := ui2.item("checkproject"); return it.ID == "checkproject" && !it.Hidden })
	answers <- answer{"/home/u/src/shop", true, nil}
	c.Clicks <- "checkproject"
	eventually(t, "the verdict", func() bool {
		return strings.Contains(n.All(), "At risk: 1 setting in ~/src/shop | gunicorn (Procfile:1)")
	})
	eventually(t, "the item free again", func() bool { return !ui2.item("checkproject").Disabled })
	answers <- answer{"", false, nil} // Cancel
	c.Clicks <- "checkproject"
	eventually(t, "the cancel taken", func() bool { return len(answers) == 0 })
	// The chooser fails from now on: click until the item is free to
	// take it (a click while the cancelled one is under way is ignored).
	eventually(t, "the failure said", func() bool {
		select {
		case c.Clicks <- "checkproject":
		default:
		}
		return strings.Contains(n.All(), "boom")
	})
	if got := len(checked); got != 1 {
		t.Errorf("%d checks, want 1 (Cancel checks nothing)", got)
	}
}
