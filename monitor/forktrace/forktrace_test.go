package forktrace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// readTestRecord reads a record captured from a real run (testdata/*.json:
// gunicorn 20.1.0 and celery 5.2.6 from Debian's packages, traced in a
// venv).
func readTestRecord(t testing.TB, name string) *Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ParseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestForkSiteRealServers: servers started from their own command line
// have no frame of the program's own; the site is the line in the tool
// that forked, and via names the tool.
func TestForkSiteRealServers(t *testing.T) {
	cases := []struct {
		file, via, site, fn, describe, framework string
		line                                     int
	}{
		{"gunicorn-worker.json", "gunicorn.arbiter", "/usr/lib/python3/dist-packages/gunicorn/arbiter.py", "spawn_worker",
			"forked at gunicorn/arbiter.py:573 in spawn_worker() via gunicorn.arbiter", "gunicorn", 573},
		{"celery-prefork.json", "celery.concurrency.prefork", "/usr/lib/python3/dist-packages/celery/concurrency/prefork.py", "on_start",
			"forked at celery/concurrency/prefork.py:109 in on_start() via celery.concurrency.prefork", "celery", 109},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rec := readTestRecord(t, c.file)
			s, ok := rec.ForkSite()
			if !ok || s.Via != c.via || s.Frame.File != c.site || s.Frame.Line != c.line || s.Frame.Function != c.fn || s.User {
				t.Fatalf("ForkSite = %+v, %v", s, ok)
			}
			if got := rec.Describe(s); got != c.describe {
				t.Errorf("Describe = %q, want %q", got, c.describe)
			}
			r := &report.Report{PID: rec.PID, ParentPID: rec.PPID}
			if !Apply(r, rec) || r.Framework != c.framework || r.Fix == "" {
				t.Errorf("Apply: framework %q fix %q", r.Framework, r.Fix)
			}
		})
	}
}

// TestForkSiteShapes covers the stack shapes the live runs do not: the
// program's own frame between library frames, and an empty stack.
func TestForkSiteShapes(t *testing.T) {
	rec := readTestRecord(t, "gunicorn-worker.json")
	// A gunicorn hook in the program's code calling os.fork itself.
	hook := report.ForkFrame{File: "/Users/u/app/hooks.py", Line: 12, Function: "post_fork"}
	rec.Stack = append([]report.ForkFrame{hook}, rec.Stack...)
	rec.Cwd = "/Users/u/app"
	s, _ := rec.ForkSite()
	if s.Frame != hook || s.Via != ViaUserCode || !s.User {
		t.Errorf("hook: %+v", s)
	}
	if got := rec.Describe(s); got != "forked at hooks.py:12 in post_fork() via os.fork from user code" {
		t.Errorf("Describe = %q", got)
	}
	// The program's code calling into gunicorn (embedding it).
	rec.Stack = append(rec.Stack[1:5:5], report.ForkFrame{File: "/Users/u/app/serve.py", Line: 30, Function: "main"})
	s, _ = rec.ForkSite()
	if s.Frame.File != "/Users/u/app/serve.py" || s.Via != "gunicorn.arbiter" {
		t.Errorf("embedded: %+v", s)
	}
	rec.Stack = nil
	if _, ok := rec.ForkSite(); ok {
		t.Error("empty stack gave a site")
	}
	r := &report.Report{}
	if Apply(r, rec) || r.ForkSite != nil || len(r.Evidence) != 0 {
		t.Errorf("Apply with no stack changed the report: %+v", r)
	}
}

// writeRecord writes rec into its slot of dir's record file, as the
// tracer does.
func writeRecord(t testing.TB, dir string, rec *Record) {
	t.Helper()
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	writeSlot(t, dir, rec.PID, append(b, '\n'))
}

// writeSlot writes raw bytes into pid's slot.
func writeSlot(t testing.TB, dir string, pid int, data []byte) {
	t.Helper()
	if err := CreateRing(dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(RingPath(dir), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, int64(pid%Slots)*SlotSize); err != nil {
		t.Fatal(err)
	}
}

func readReport(t testing.TB, name string) *report.Report {
	t.Helper()
	r, err := report.ReadFile(filepath.Join("..", "report", "testdata", "reports", name))
	if r == nil {
		t.Fatal(err)
	}
	return r
}

// TestEnricherRealReports: a real report whose pid has a record gains the
// fork site; a record from another parent, or written after the crash (the
// pid was reused), does not; a report without a record is left as it was.
func TestEnricherRealReports(t *testing.T) {
	const report = "python27-objc-fork-cpython-75020.crash" // pid 13106, parent 13070, 2017-07-03T10:28:23-04:00
	crash, _ := time.Parse(time.RFC3339, "2017-07-03T10:28:23-04:00")
	base := readTestRecord(t, "gunicorn-worker.json")
	cases := []struct {
		name  string
		edit  func(*Record)
		wants bool
	}{
		{"match", func(r *Record) {}, true},
		{"parent adopted by launchd", func(r *Record) { r.PPID = 1 }, false},
		{"other parent", func(r *Record) { r.PPID = 999 }, false},
		{"written after the crash", func(r *Record) { r.Time = float64(crash.Add(time.Hour).Unix()) }, false},
		{"forked a day before", func(r *Record) { r.Time = float64(crash.Add(-24 * time.Hour).Unix()) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rec := *base
			rec.PID, rec.PPID, rec.Time = 13106, 13070, float64(crash.Add(-time.Second).Unix())
			c.edit(&rec)
			writeRecord(t, dir, &rec)
			r := readReport(t, report)
			before := len(r.Evidence)
			Enricher(dir)(r)
			if got := r.ForkSite != nil; got != c.wants {
				t.Fatalf("fork_site set = %v, want %v (%+v)", got, c.wants, r.ForkSite)
			}
			if !c.wants {
				if len(r.Evidence) != before || r.ForkVia != "" {
					t.Errorf("report changed: %+v", r)
				}
				return
			}
			if r.ForkVia != "gunicorn.arbiter" || r.ForkSite.Line != 573 || len(r.ForkStack) != len(base.Stack) {
				t.Errorf("enriched: via %q site %+v stack %d", r.ForkVia, r.ForkSite, len(r.ForkStack))
			}
			if last := r.Evidence[len(r.Evidence)-1]; last != "fork tracer: forked at gunicorn/arbiter.py:573 in spawn_worker() via gunicorn.arbiter" {
				t.Errorf("evidence %q", last)
			}
			if got := Sentence(r); got != "forked at gunicorn/arbiter.py:573 in spawn_worker() via gunicorn.arbiter" {
				t.Errorf("Sentence = %q", got)
			}
			js, _ := json.Marshal(r)
			if !bytes.Contains(js, []byte(`"fork_site":{"file":"/usr/lib/python3/dist-packages/gunicorn/arbiter.py","line":573,"function":"spawn_worker"}`)) {
				t.Errorf("JSON lacks fork_site: %s", js)
			}
		})
	}
	// A report with no pid, and a pid with no record.
	dir := t.TempDir()
	for _, name := range []string{"python39-rq-objc-fork-django-rq-574.ips", "python313-duckdb-segv-chunkhound.ips"} {
		r := readReport(t, name)
		want, _ := json.Marshal(r)
		Enricher(dir)(r)
		if got, _ := json.Marshal(r); !bytes.Equal(got, want) {
			t.Errorf("%s changed without a record", name)
		}
	}
}

// TestLookupHostile: the spool is written by processes we do not control.
func TestLookupHostile(t *testing.T) {
	good := readTestRecord(t, "celery-prefork.json")
	rec := func(pid int) []byte {
		g := *good
		g.PID = pid
		b, _ := json.Marshal(&g)
		return append(b, '\n')
	}
	dir := t.TempDir()
	writeSlot(t, dir, 11, rec(11+Slots))                 // another child sharing the slot
	writeSlot(t, dir, 12, rec(12)[:100])                 // cut short (disk full, file-size limit)
	writeSlot(t, dir, 13, []byte("garbage\n"))           // not JSON
	writeSlot(t, dir, 14, append(rec(14), rec(99)...))   // a newer record ahead of an older one's tail
	writeSlot(t, dir, 15, bytes.Repeat([]byte("x"), 50)) // no newline
	for pid, want := range map[int]error{11: ErrNoRecord, 12: ErrNoRecord, 13: ErrNoRecord, 15: ErrNoRecord, 16: ErrNoRecord, 0: ErrNoRecord} {
		if _, err := Lookup(dir, pid); !errors.Is(err, want) {
			t.Errorf("pid %d: %v, want %v", pid, err, want)
		}
	}
	if r, err := Lookup(dir, 14); err != nil || r.PID != 14 {
		t.Errorf("pid 14: %v", err)
	}
	// Record files that are not: a symlink, a FIFO, a folder; a missing one.
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, rec(11), 0o600)
	for name, setup := range map[string]func(p string) error{
		"symlink": func(p string) error { return os.Symlink(victim, p) },
		"fifo":    mkfifo,
		"folder":  func(p string) error { return os.Mkdir(p, 0o700) },
		"missing": func(p string) error { return nil },
	} {
		d := t.TempDir()
		if err := setup(RingPath(d)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := Lookup(d, 11); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: a record was read", name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Lookup blocked", name)
		}
		r := &report.Report{PID: 11}
		Enricher(d)(r)
		if r.ForkSite != nil {
			t.Errorf("%s: enriched", name)
		}
		if name != "missing" {
			if err := CreateRing(d); err == nil {
				t.Errorf("%s: CreateRing accepted it", name)
			}
			if _, err := NewSpool(d).Sweep(time.Now()); err == nil {
				t.Errorf("%s: Sweep accepted it", name)
			}
		}
	}
	if b, _ := os.ReadFile(victim); !bytes.Equal(b, rec(11)) {
		t.Error("symlink target changed")
	}
}

// TestSweep: records of children gone for a minute are cleared, live ones
// stay, junk in a slot is cleared, and the record file keeps its size.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	live := map[int]bool{100: true}
	s := NewSpool(dir)
	s.alive = func(pid int) bool { return live[pid] }
	now := time.Now()
	old := float64(now.Add(-time.Hour).Unix())
	for _, pid := range []int{100, 200, 201} {
		writeRecord(t, dir, &Record{PID: pid, PPID: 1, Time: old, Stack: []report.ForkFrame{{File: "a.py", Line: 1, Function: "f"}}})
	}
	writeSlot(t, dir, 300, []byte("junk\n"))
	// A record written just now for pid 202: gone, but too fresh to clear.
	writeRecord(t, dir, &Record{PID: 202, PPID: 1, Time: float64(now.Add(90 * time.Second).Unix())})

	res, err := s.Sweep(now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Exited != 0 || res.Kept != 4 {
		t.Errorf("first sweep: %+v", res)
	}
	if res, _ := s.Sweep(now.Add(30 * time.Second)); res.Exited != 0 {
		t.Errorf("cleared before the grace period: %+v", res)
	}
	if res, _ := s.Sweep(now.Add(61 * time.Second)); res.Exited != 2 || res.Kept != 2 {
		t.Errorf("after the grace period: %+v", res)
	}
	for pid, want := range map[int]bool{100: true, 200: false, 201: false, 202: true} {
		if _, err := Lookup(dir, pid); (err == nil) != want {
			t.Errorf("pid %d: record there = %v, want %v", pid, err == nil, want)
		}
	}
	if fi, _ := os.Stat(RingPath(dir)); fi.Size() != RingSize {
		t.Errorf("record file is %d bytes", fi.Size())
	}
	if err := CreateRing(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(dir, 100); err != nil {
		t.Errorf("CreateRing lost a record: %v", err)
	}
	// A missing spool is fine.
	if _, err := NewSpool(filepath.Join(dir, "none")).Sweep(now); err != nil {
		t.Error(err)
	}
}

// TestTracerConstants: the tracer's slot layout is Go's.
func TestTracerConstants(t *testing.T) {
	for name, want := range map[string]int{"SLOTS": Slots, "SLOT_SIZE": SlotSize} {
		re := regexp.MustCompile(`(?m)^` + name + ` = ([0-9]+)`)
		m := re.FindSubmatch(moduleTemplate)
		if m == nil || string(m[1]) != strconv.Itoa(want) {
			t.Errorf("tracer %s = %s, Go has %d", name, m, want)
		}
	}
}

// FuzzParseRecord: no input makes the parser or ForkSite panic.
func FuzzParseRecord(f *testing.F) {
	for _, n := range []string{"gunicorn-worker.json", "celery-prefork.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"pid":1,"stack":[{"file":"<frozen x>"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseRecord(data)
		if err != nil {
			return
		}
		if s, ok := rec.ForkSite(); ok {
			_ = rec.Describe(s)
			Apply(&report.Report{}, rec)
		}
	})
}

// TestSweepIdle: with the record file unchanged, a Sweep reads only the
// slots it kept, and still clears them once their process is gone.
func TestSweepIdle(t *testing.T) {
	dir := t.TempDir()
	live := map[int]bool{100: true}
	s := NewSpool(dir)
	s.alive = func(pid int) bool { return live[pid] }
	now := time.Now()
	writeRecord(t, dir, &Record{PID: 100, PPID: 1, Time: float64(now.Add(-time.Hour).Unix())})
	past := now.Add(-time.Hour)
	os.Chtimes(RingPath(dir), past, past)
	if res, _ := s.Sweep(now); res.Kept != 1 || len(s.lastKept) != 1 {
		t.Fatalf("first sweep: %+v", res)
	}
	// A record written behind the sweep's back without changing the time is
	// not seen (only the kept slots are read)...
	writeRecord(t, dir, &Record{PID: 200, PPID: 1, Time: float64(now.Add(-time.Hour).Unix())})
	os.Chtimes(RingPath(dir), past, past)
	if res, _ := s.Sweep(now.Add(time.Second)); res.Kept != 1 {
		t.Errorf("idle sweep read everything: %+v", res)
	}
	// ...and a kept record whose process is gone is cleared all the same.
	delete(live, 100)
	s.Sweep(now.Add(2 * time.Second))
	if res, _ := s.Sweep(now.Add(2 * time.Minute)); res.Exited != 1 {
		t.Errorf("gone process's record kept: %+v", res)
	}
	// The clearing changed the file: the next sweep reads everything.
	s.Sweep(now.Add(3 * time.Minute))
	if res, _ := s.Sweep(now.Add(5 * time.Minute)); res.Exited != 1 {
		t.Errorf("full read after a change: %+v", res)
	}
}

// TestNoRecordText: Lookup's no-record errors read as the fmt.Errorf
// texts they replaced, and are ErrNoRecord.
func TestNoRecordText(t *testing.T) {
	for _, tc := range []struct {
		err  *noRecord
		want string
	}{
		{&noRecord{pid: 0}, fmt.Errorf("pid %d: %w", 0, ErrNoRecord).Error()},
		{&noRecord{pid: 7, noFile: true}, fmt.Errorf("pid %d: no record file: %w", 7, ErrNoRecord).Error()},
		{&noRecord{pid: 7}, fmt.Errorf("pid %d: %w", 7, ErrNoRecord).Error()},
		{&noRecord{pid: 7, other: 9}, fmt.Errorf("pid %d: the slot holds pid %d's record: %w", 7, 9, ErrNoRecord).Error()},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", *tc.err, got, tc.want)
		}
		if !errors.Is(tc.err, ErrNoRecord) {
			t.Errorf("%+v is not ErrNoRecord", *tc.err)
		}
	}
	if _, err := Lookup(t.TempDir(), 7); err == nil || err.Error() != "pid 7: no record file: no fork record" || !errors.Is(err, ErrNoRecord) {
		t.Errorf("Lookup in an empty spool: %v", err)
	}
}
