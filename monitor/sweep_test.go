package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// corpus lists the real reports: the package's and the shared folder's.
func corpus(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("report", "testdata", "reports", "*"))
	shared, _ := filepath.Glob("/work/shared/crash-reports/*")
	for _, p := range shared {
		if report.IsReportName(filepath.Base(p)) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		t.Fatal("no reports")
	}
	return paths
}

// errKind names the sentinel an error wraps, the way the watcher tells
// errors apart.
func errKind(err error) string {
	for _, k := range []error{report.ErrIncomplete, report.ErrOtherDiagnostic, report.ErrNotCrashReport, report.ErrNotRegular, report.ErrTooLarge, os.ErrNotExist} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	if err != nil {
		return "other"
	}
	return ""
}

// TestSweepSameAsReadFile: the sweep's peek-first reading gives, for every
// real report and every odd file, exactly what report.ReadFile gives (the
// same Report, the same kind of error), so the verdicts are unchanged.
func TestSweepSameAsReadFile(t *testing.T) {
	dir := t.TempDir()
	for i, p := range corpus(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%02d-%s", i, filepath.Base(p))), b, 0o644)
		// The same cut short: a file still being written.
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("cut%02d-%s", i, filepath.Base(p))), b[:len(b)/2], 0o644)
	}
	hdr := `{"app_name":"Python","bug_type":"%s","incident_id":"3F5C1A2B-0000-4000-8000-000000000001","name":"Python"}` + "\n"
	big := bytes.Repeat([]byte("x"), 3*report.PeekSize)
	for name, data := range map[string][]byte{
		"Python-2026-05-14-150547.ips":   append([]byte(fmt.Sprintf(hdr, "288")+"{\n"), big...), // a stackshot, larger than a peek
		"Python-2026-05-14-150548.ips":   []byte(fmt.Sprintf(hdr, "309")),                       // header only
		"Python-2026-05-14-150549.ips":   {},                                                    // empty
		"Python-2026-05-14-150550.ips":   []byte("\ufeff" + fmt.Sprintf(hdr, "211") + "{}\n"),   // another kind, after a BOM
		"junk_2026-05-14-150551_h.crash": append([]byte("Incident Identifier: 3F5C1A2B-0000-4000-8000-000000000002\n"), big...),
		// Larger than a worker's first buffer: it grows, and the reports
		// read into it after are not mixed with what was left in it.
		"huge_2026-05-14-150552_h.crash": hugeReport(t, 3*sweepBuf),
		// Past the limit: refused as too large, as ReadFile refuses it.
		"over_2026-05-14-150553_h.crash": hugeReport(t, report.MaxReportSize+1),
	} {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	os.Symlink(filepath.Join(dir, "Python-2026-05-14-150548.ips"), filepath.Join(dir, "link.ips"))
	syscall.Mkfifo(filepath.Join(dir, "fifo.ips"), 0o600)

	// One worker, whose one buffer every report passes through, and two.
	for _, procs := range []int{1, 2} {
		restore := runtime.GOMAXPROCS(procs)
		checkSweepSameAsReadFile(t, dir)
		runtime.GOMAXPROCS(restore)
	}
}

// hugeReport is a real legacy report with its binary images repeated until
// it is at least n bytes.
func hugeReport(t *testing.T, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("report", "testdata", "reports", "yetanothermac-segv.crash"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("Binary Images:"))
	if i < 0 {
		t.Fatal("no binary images")
	}
	out := append([]byte(nil), b...)
	for len(out) < n {
		out = append(out, b[i+len("Binary Images:"):]...)
	}
	return out
}

func checkSweepSameAsReadFile(t *testing.T, dir string) {
	t.Helper()
	got := map[string]SweepResult{}
	Sweep(context.Background(), []string{dir}, nil, func(r SweepResult) { got[r.Path] = r })
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		n++
		switch e.Name() {
		case "link.ips", "fifo.ips":
			// Never read: passed on as not a regular file, for the watcher
			// to refuse once (issue 32: a FIFO there at start was never said).
			if r := got[p]; r.Path != p || r.Report != nil || !errors.Is(r.Err, report.ErrNotRegular) {
				t.Errorf("%s: result %+v", e.Name(), r)
			}
			continue
		}
		r, ok := got[p]
		if !ok {
			t.Errorf("%s: not swept", e.Name())
			continue
		}
		want, wantErr := report.ReadFile(p)
		if errKind(r.Err) != errKind(wantErr) {
			t.Errorf("%s: error %v, ReadFile's %v", e.Name(), r.Err, wantErr)
		}
		a, _ := json.Marshal(r.Report)
		b, _ := json.Marshal(want)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the sweep's report differs from ReadFile's:\n%s\n%s", e.Name(), a, b)
		}
	}
	if len(got) != n {
		t.Errorf("%d results for %d reports", len(got), n)
	}
}

// TestPeekAgreesWithParse: where Peek names a report's ID or verdict from
// its start, Parse of the whole report says the same.
func TestPeekAgreesWithParse(t *testing.T) {
	ids := 0
	for _, p := range corpus(t) {
		b, _ := os.ReadFile(p)
		id, verdict := report.Peek(b[:min(len(b), report.PeekSize)])
		r, err := report.Parse(b)
		if verdict != nil && !errors.Is(err, report.ErrOtherDiagnostic) {
			t.Errorf("%s: Peek says %v, Parse %v", filepath.Base(p), verdict, err)
		}
		if id != "" {
			ids++
			if r == nil || r.ID != id {
				t.Errorf("%s: Peek's id %q, Parse's %+v", filepath.Base(p), id, r)
			}
		}
	}
	if ids == 0 {
		t.Error("Peek found no id in the corpus")
	}
}

// TestSweepSkipsKnownID: a report whose ID the store knows (moved into
// Retired/, a new path) is not parsed: the rest of this one is not even a
// report, and it still comes back Known, with its ID.
func TestSweepSkipsKnownID(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("report", "testdata", "reports", "monerod-sigbus-fork-child-monero-gui-4380.ips"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Parse(b)
	if err != nil || !strings.HasPrefix(r.ID, "incident:") {
		t.Fatalf("sample: %v %+v", err, r)
	}
	// Keep the header and the body's first members (the incident is among
	// them), then garbage past the peek.
	lines := strings.SplitAfter(string(b), "\n")
	head := strings.Join(lines[:min(len(lines), 20)], "")
	if !strings.Contains(head, `"incident"`) {
		t.Fatalf("no incident in the first lines: %s", head)
	}
	os.WriteFile(filepath.Join(dir, "known.ips"), []byte(head+strings.Repeat("\x00garbage", 4*report.PeekSize)), 0o644)
	os.WriteFile(filepath.Join(dir, "new.ips"), b, 0o644)
	var asked []string
	known := func(id string) bool { asked = append(asked, id); return id == r.ID }
	got := map[string]SweepResult{}
	restore := runtime.GOMAXPROCS(1) // one worker: known is called from it alone
	defer runtime.GOMAXPROCS(restore)
	SweepWith(context.Background(), []string{dir}, SweepOptions{KnownID: known}, func(res SweepResult) { got[filepath.Base(res.Path)] = res })
	k := got["known.ips"]
	if !k.Known || k.Err != nil || k.Report == nil || k.Report.ID != r.ID || k.Report.Path != filepath.Join(dir, "known.ips") {
		t.Errorf("known report: %+v", k)
	}
	// The same ID under the other name is known too: both skipped.
	if n := got["new.ips"]; !n.Known {
		t.Errorf("second copy of a known ID parsed: %+v", n)
	}
	// Without KnownID, both are parsed: the garbage one is not a report.
	got = map[string]SweepResult{}
	Sweep(context.Background(), []string{dir}, nil, func(res SweepResult) { got[filepath.Base(res.Path)] = res })
	if got["known.ips"].Known || got["known.ips"].Err == nil || got["new.ips"].Report.ID != r.ID || got["new.ips"].Known {
		t.Errorf("without KnownID: %+v / %+v", got["known.ips"], got["new.ips"])
	}
	if len(asked) == 0 {
		t.Error("KnownID never asked")
	}
}

// TestSweepHugeFileBounded: a file far past report.MaxReportSize is
// refused as too large having grown the worker's buffer to about that
// limit, not to the file's size (the listing no longer stats it first).
func TestSweepHugeFileBounded(t *testing.T) {
	dir := t.TempDir()
	name := "huge_2026-05-14-150554_h.crash"
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 * report.MaxReportSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	job := sweepJob{dirfd: int(d.Fd()), name: name, path: filepath.Join(dir, name)}
	buf := make([]byte, sweepBuf)
	res := job.read(&buf, nil)
	if !errors.Is(res.Err, report.ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", res.Err)
	}
	if !strings.Contains(res.Err.Error(), fmt.Sprint(3*report.MaxReportSize)) {
		t.Errorf("error %q does not give the file's size", res.Err)
	}
	if limit := report.MaxReportSize + 1<<20; cap(buf) > limit {
		t.Errorf("buffer grew to %d bytes for a file of %d (limit %d)", cap(buf), 3*report.MaxReportSize, limit)
	}
}

// TestSweepMissing: the sweep returns the known paths it did not find (in
// its folders or not), and none it found: a known report, a known symlink
// (refused, but there) and a report it reads are not missing.
func TestSweepMissing(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile(filepath.Join("report", "testdata", "reports", "python39-rq-objc-fork-django-rq-574.ips"))
	if err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(p("known.ips"), sample, 0o644)
	os.WriteFile(p("new.ips"), sample, 0o644)
	if err := os.Symlink(p("known.ips"), p("link.ips")); err != nil {
		t.Fatal(err)
	}
	skip := map[string]bool{p("known.ips"): true, p("link.ips"): true, p("gone.ips"): true, filepath.Join(dir, "Retired", "moved.ips"): true}
	var read []string
	missing := SweepWith(context.Background(), []string{dir}, SweepOptions{Skip: skip}, func(r SweepResult) { read = append(read, filepath.Base(r.Path)) })
	slices.Sort(missing)
	if want := []string{filepath.Join(dir, "Retired", "moved.ips"), p("gone.ips")}; !slices.Equal(missing, want) {
		t.Errorf("missing %q, want %q", missing, want)
	}
	if !slices.Equal(read, []string{"new.ips"}) {
		t.Errorf("read %q, want only new.ips", read)
	}
}

// TestWatcherForgetsGone: after the first sweep the watcher forgets the
// known reports that are gone (deleted while it was not running) and keeps
// the ones still there, read or not.
func TestWatcherForgetsGone(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	os.MkdirAll(reports, 0o755)
	sample, err := os.ReadFile(filepath.Join("report", "testdata", "reports", "python39-rq-objc-fork-django-rq-574.ips"))
	if err != nil {
		t.Fatal(err)
	}
	here := filepath.Join(reports, "here.ips")
	os.WriteFile(here, sample, 0o644)
	st, _ := LoadState("")
	r, _ := report.Parse(sample)
	st.MarkPath(here, r.ID)
	gone := filepath.Join(reports, "gone.ips")
	st.MarkPath(gone, "incident:gone")
	retired := filepath.Join(reports, "Retired", "moved.ips")
	st.MarkPath(retired, "incident:moved")
	ready := make(chan struct{})
	w, err := NewWatcher(Config{ReportDirs: []string{reports}, State: st, Log: slog.New(&sweptHandler{done: ready})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(Event) {}) }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not finish its first sweep")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	known := st.KnownPaths()
	if !known[here] || known[gone] || known[retired] {
		t.Errorf("known after the sweep: %v; want %s only", known, here)
	}
}
