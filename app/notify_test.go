package main

import (
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor"
)

func pyCrash(pid int) monitor.Event {
	return monitor.Event{Kind: monitor.KindCrash, Report: &monitor.Report{Process: "Python", PID: pid, ParentProcess: "Python", ParentPID: 1, Python: true, ForkChild: true, ObjCForkSafety: true, ObjCClass: "NSPlaceholderString", Cause: monitor.CauseForkSafety, Advice: "Use spawn."}}
}

// TestAlerterCrashLoop: the first crash notifies at once, the rest of a
// loop give one summary per window; history, non-Python crashes and paused
// time give nothing.
func TestAlerterCrashLoop(t *testing.T) {
	n := &fakeNotifier{}
	a := NewAlerter(n, 300*time.Millisecond, nil)
	a.Event(monitor.Event{Kind: monitor.KindCrash, Report: &monitor.Report{Process: "Safari", Cause: "crash"}})
	h := pyCrash(1)
	h.History = true
	a.Event(h)
	for i := 0; i < 37; i++ {
		a.Event(pyCrash(4200 + i))
	}
	eventually(t, "two notifications", func() bool { return strings.Count(n.all(), "\n") == 1 })
	time.Sleep(500 * time.Millisecond)
	got := n.all()
	lines := strings.Split(got, "\n")
	if len(lines) != 2 {
		t.Fatalf("notifications:\n%s", got)
	}
	if !strings.HasPrefix(lines[0], "Python crashed after fork() | Python (pid 4200, parent Python 1) was killed by the Objective-C fork-safety check in +[NSPlaceholderString initialize].") {
		t.Errorf("first: %s", lines[0])
	}
	if !strings.HasPrefix(lines[1], "36 more Python crashes from Python") {
		t.Errorf("summary: %s", lines[1])
	}
	a.PauseUntil(time.Now().Add(time.Hour))
	a.Event(pyCrash(9999))
	time.Sleep(400 * time.Millisecond)
	if strings.Count(n.all(), "\n") != 1 {
		t.Errorf("notified while paused:\n%s", n.all())
	}
}

// TestAlerterCoreFile: a big complete core file is announced with its size.
func TestAlerterCoreFile(t *testing.T) {
	n := &fakeNotifier{}
	a := NewAlerter(n, time.Minute, nil)
	a.Event(monitor.Event{Kind: monitor.KindCore, Core: &monitor.CoreFile{Path: "/cores/core.4242", PID: 4242, Size: 50 << 20, Complete: true}})
	a.Event(monitor.Event{Kind: monitor.KindCore, Core: &monitor.CoreFile{Path: "/cores/core.4243", PID: 4243, Size: 3_100_000_000, Complete: true, Process: "Python"}})
	eventually(t, "notification", func() bool { return n.all() != "" })
	if got := n.all(); !strings.HasPrefix(got, "Core file: 3.1 GB | Python (pid 4243) left 3.1 GB") || strings.Contains(got, "4242") {
		t.Errorf("got %q", got)
	}
}

func TestNotificationText(t *testing.T) {
	if got := notificationText("--help\nme\x1b[1m", 100); strings.HasPrefix(got, "-") || strings.ContainsAny(got, "\n\x1b") {
		t.Errorf("got %q", got)
	}
}
