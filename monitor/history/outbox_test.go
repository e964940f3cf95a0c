package history

import (
	"context"
	"encoding/json"
	"github.com/forkwatch/forkwatch/monitor/report"
	"path/filepath"
	"testing"
	"time"
)

// TestOutbox: with the outbox on, crashes, complete core files, toggle
// changes and probe results are queued once each under a stable id, in
// order; sent ones leave the pending list; the queue outlasts a reopen;
// with the outbox off nothing is queued.
func TestOutbox(t *testing.T) {
	now := t0
	path := filepath.Join(t.TempDir(), "history.db")
	d := openTest(t, path, &now)

	d.MarkSeen(mkReport(1, report.CauseForkSafety, now), now)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	if ev, _ := d.PendingOutbox(context.Background(), 100); len(ev) != 0 {
		t.Fatalf("outbox off, but queued %v", ev)
	}

	d.SetOutbox(true)
	d.MarkSeen(mkReport(2, report.CauseForkSafety, now), now)
	d.MarkSeen(mkReport(2, report.CauseForkSafety, now), now) // the same crash again
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordCore(report.CoreFile{Path: "/cores/core.42", PID: 42, Size: 10}, now); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordCore(report.CoreFile{Path: "/cores/core.42", PID: 42, Size: 99, Complete: true}, now); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordCore(report.CoreFile{Path: "/cores/core.42", PID: 42, Size: 99, Complete: true}, now); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordToggle("ulimit-core", true, "in ~/.zshrc", now); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordProbe(Probe{Time: now, Name: "/usr/bin/python3", OK: false, Detail: "killed"}); err != nil {
		t.Fatal(err)
	}
	ev, err := d.PendingOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, e := range ev {
		kinds = append(kinds, e.Kind+":"+e.ID)
	}
	want := []string{"crash:incident:000002", "core:core-1", "toggle:toggle-1", "probe:probe-1"}
	if len(kinds) != len(want) {
		t.Fatalf("queued %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Errorf("queued %v, want %v", kinds, want)
		}
	}
	var r report.Report
	if err := json.Unmarshal(ev[0].Payload, &r); err != nil || r.PID != 1002 || r.Framework != "gunicorn" {
		t.Errorf("crash payload %s: %v", ev[0].Payload, err)
	}
	var c report.CoreFile
	if err := json.Unmarshal(ev[1].Payload, &c); err != nil || c.Size != 99 || !c.Complete {
		t.Errorf("core payload %s", ev[1].Payload)
	}

	if err := d.MarkOutboxFailed([]int64{ev[0].Seq}); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkOutboxSent([]int64{ev[1].Seq, ev[2].Seq}, now); err != nil {
		t.Fatal(err)
	}
	st, err := d.OutboxStats(context.Background())
	if err != nil || st.Pending != 2 || st.Sent != 2 || !st.Oldest.Equal(now) {
		t.Fatalf("stats %+v, %v", st, err)
	}

	// A reopen (Forkwatch restarted) keeps what is pending.
	d.Close()
	d = openTest(t, path, &now)
	ev, err = d.PendingOutbox(context.Background(), 100)
	if err != nil || len(ev) != 2 || ev[0].ID != "incident:000002" || ev[0].Attempts != 1 || ev[1].Kind != OutboxKindProbe {
		t.Fatalf("after reopen: %+v, %v", ev, err)
	}
	// Marking sent again is harmless; re-seen crash ids are not queued twice.
	d.SetOutbox(true)
	d.MarkSeen(mkReport(2, report.CauseForkSafety, now), now)
	d.Save()
	if ev2, _ := d.PendingOutbox(context.Background(), 100); len(ev2) != 2 {
		t.Errorf("a seen crash queued again: %v", ev2)
	}
}

// TestOutboxBounds: unsent events past the age or beyond the count are
// dropped, the newest kept; sent ones go after a day.
func TestOutboxBounds(t *testing.T) {
	now := t0
	d := openTest(t, filepath.Join(t.TempDir(), "history.db"), &now)
	d.SetOutbox(true)
	for i := range 5 {
		if err := d.RecordToggle("ulimit-core", i%2 == 0, "", now); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(OutboxMaxAge + time.Hour)
	if err := d.RecordToggle("login-item", true, "", now); err != nil {
		t.Fatal(err)
	}
	n, err := d.PruneOutbox(now)
	if err != nil || n != 5 {
		t.Fatalf("dropped %d, %v; want the 5 old ones", n, err)
	}
	ev, _ := d.PendingOutbox(context.Background(), 100)
	if len(ev) != 1 || ev[0].ID != "toggle-6" {
		t.Fatalf("left %+v", ev)
	}
	if err := d.MarkOutboxSent([]int64{ev[0].Seq}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PruneOutbox(now.Add(OutboxKeepSent + time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st, _ := d.OutboxStats(context.Background()); st.Sent != 0 || st.Pending != 0 {
		t.Errorf("stats after pruning sent: %+v", st)
	}
}

// TestOutboxCountBound: beyond OutboxMaxCount unsent, the oldest go.
func TestOutboxCountBound(t *testing.T) {
	if testing.Short() {
		t.Skip("writes OutboxMaxCount rows")
	}
	now := t0
	d := openTest(t, filepath.Join(t.TempDir(), "history.db"), &now)
	d.SetOutbox(true)
	const extra = 3
	d.mu.Lock()
	err := d.write(func() error {
		for i := range OutboxMaxCount + extra {
			if err := d.enqueue(mkReport(i, "crash", now).ID, OutboxKindCrash, now, now, map[string]int{"i": i}); err != nil {
				return err
			}
		}
		return nil
	})
	d.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.PruneOutbox(now)
	if err != nil || n != extra {
		t.Fatalf("dropped %d, %v", n, err)
	}
	ev, _ := d.PendingOutbox(context.Background(), 1)
	if len(ev) != 1 || ev[0].ID != mkReport(extra, "", now).ID {
		t.Errorf("oldest kept: %+v", ev)
	}
}
