package export

import (
	"encoding/json"
	"github.com/forkwatch/forkwatch/monitor/report"

	"context"
	"go.opentelemetry.io/otel/attribute"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/forkwatch/forkwatch/internal/redact"
	"github.com/forkwatch/forkwatch/monitor/history"
)

// fakeCollector is an OTLP/HTTP logs endpoint that refuses the first
// `fail` requests with 503 and decodes the rest.
type fakeCollector struct {
	mu      sync.Mutex
	fail    int
	reqs    int
	headers []http.Header
	logs    []*collogspb.ExportLogsServiceRequest
}

func (f *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs++
	f.headers = append(f.headers, r.Header.Clone())
	if r.URL.Path != "/base/v1/logs" {
		http.Error(w, "wrong path "+r.URL.Path, http.StatusNotFound)
		return
	}
	if f.fail > 0 {
		f.fail--
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req collogspb.ExportLogsServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.logs = append(f.logs, &req)
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	w.Write(out)
}

// records flattens what arrived: per record its event name and attributes
// as strings, with the resource's.
func (f *fakeCollector) records() (recs []map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, req := range f.logs {
		for _, rl := range req.ResourceLogs {
			res := kv(rl.Resource.Attributes)
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					m := kv(lr.Attributes)
					m["event.name"] = lr.EventName
					m["body"] = lr.Body.GetStringValue()
					for k, v := range res {
						m["resource."+k] = v
					}
					recs = append(recs, m)
				}
			}
		}
	}
	return recs
}

func kv(attrs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, a := range attrs {
		v := a.Value
		switch {
		case v.GetStringValue() != "":
			m[a.Key] = v.GetStringValue()
		case v.GetValue() == nil:
		default:
			s := strings.TrimSpace(v.String())
			if i := strings.Index(s, ":"); i >= 0 {
				s = s[i+1:]
			}
			m[a.Key] = s
		}
	}
	return m
}

func openDB(t *testing.T) *history.DB {
	t.Helper()
	d, err := history.Open(filepath.Join(t.TempDir(), "history.db"), history.Options{PruneEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	d.SetOutbox(true)
	return d
}

func crash(i int) *report.Report {
	return &report.Report{
		ID: "incident-" + string(rune('A'+i)), Path: "/Users/ana/Library/Logs/DiagnosticReports/Python.ips", Process: "Python", PID: 500 + i, ParentPID: 400, ParentProcess: "gunicorn",
		ExePath: "/Users/ana/src/shop/.venv/bin/python", Exception: "EXC_CRASH (SIGABRT)", Signal: "SIGABRT", Termination: "Namespace OBJC, Code 1",
		Cause: report.CauseForkSafety, Python: true, ForkChild: true, ObjCForkSafety: true, PythonVersion: "3.12.4",
		ParentCommand: "/Users/ana/src/shop/.venv/bin/python /Users/ana/src/shop/.venv/bin/gunicorn shop.wsgi -w 4", ParentCwd: "/Users/ana/src/shop",
		Project: "/Users/ana/src/shop", Venv: "/Users/ana/src/shop/.venv", Framework: "gunicorn", Fix: "gunicorn --no-preload", Group: "g400",
		ForkSite: &report.ForkSite{File: "/Users/ana/src/shop/app/tasks.py", Line: 42, Function: "run_jobs"},
		Time:     time.Now().Format(time.RFC3339),
	}
}

// TestExportRetriesUntilAccepted: a collector refusing the first requests
// gets every event once it answers, with the documented names, the
// redaction applied and the headers set; each is marked sent.
func TestExportRetriesUntilAccepted(t *testing.T) {
	fc := &fakeCollector{fail: 2}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	d := openDB(t)
	now := time.Now()
	for i := range 3 {
		d.MarkSeen(crash(i), now)
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordToggle("ulimit-core", true, "block in /Users/ana/.zshrc", now); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordCore(report.CoreFile{Path: "/cores/core.501", PID: 501, Size: 4096, Complete: true, Process: "Python"}, now); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordProbe(history.Probe{Time: now, Name: "/usr/bin/python3", OK: false, Detail: "killed by SIGABRT"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := Start(ctx, Config{
		Endpoint: srv.URL + "/base/", Headers: map[string]string{"Authorization": "Bearer t0ken"},
		Redact: redact.Redaction{Home: true}, Home: "/Users/ana", Version: "v9.9.9", Outbox: d,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for what the test means: all six records arrived and the
	// exporter has marked them sent (it does so after the collector's
	// answer, so the records can arrive before the outbox is empty). The
	// bound is generous: a busy machine is slow, not wrong.
	pending := func() int {
		ev, err := d.PendingOutbox(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	deadline := time.Now().Add(60 * time.Second)
	for (len(fc.records()) < 6 || pending() > 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// The collector has them; the exporter marks them sent just after.
	for time.Now().Before(deadline) {
		if ev, _ := d.PendingOutbox(context.Background(), 10); len(ev) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-e.Done()
	recs := fc.records()
	if len(recs) != 6 {
		t.Fatalf("%d records arrived, want 6", len(recs))
	}
	if fc.reqs < 3 || fc.headers[0].Get("Authorization") != "Bearer t0ken" {
		t.Errorf("requests %d, headers %v", fc.reqs, fc.headers[0])
	}
	byID := map[string]map[string]string{}
	for _, r := range recs {
		if byID[r[AttrIncidentID]] != nil {
			t.Errorf("%s arrived twice", r[AttrIncidentID])
		}
		byID[r[AttrIncidentID]] = r
	}
	c := byID["incident-A"]
	want := map[string]string{
		"event.name": EventCrash, "app.crash.id": "incident-A", "process.pid": "500", "process.parent_pid": "400",
		"process.executable.path": "~/src/shop/.venv/bin/python", "exception.type": "EXC_CRASH (SIGABRT)",
		"process.command_line": "~/src/shop/.venv/bin/python ~/src/shop/.venv/bin/gunicorn shop.wsgi -w 4",
		AttrCause:              "fork-safety", AttrFramework: "gunicorn", AttrFix: "gunicorn --no-preload", AttrProject: "~/src/shop",
		AttrGroup: "g400", AttrForkSite: "~/src/shop/app/tasks.py:42 in run_jobs", "code.line.number": "42",
		"resource.service.name": "forkwatch", "resource.service.version": "v9.9.9", "resource.os.type": runtime.GOOS,
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %q, want %q", k, c[k], v)
		}
	}
	for _, k := range []string{"resource.host.name", "resource.os.version"} {
		if c[k] == "" {
			t.Errorf("no %s", k)
		}
	}
	if tg := byID["toggle-1"]; tg["event.name"] != EventToggle || tg[AttrToggleName] != "ulimit-core" || tg[AttrToggleDetail] != "block in ~/.zshrc" {
		t.Errorf("toggle record %v", tg)
	}
	if cf := byID["core-1"]; cf["event.name"] != EventCore || cf[AttrCoreSize] != "4096" {
		t.Errorf("core record %v", cf)
	}
	if pr := byID["probe-1"]; pr["event.name"] != EventProbe || pr[AttrProbeOK] != "false" {
		t.Errorf("probe record %v", pr)
	}
	if ev, _ := d.PendingOutbox(context.Background(), 10); len(ev) != 0 {
		t.Errorf("still pending: %v", ev)
	}
}

// TestRedactProject: the project rule hides the project's name wherever a
// path names it; args drops the arguments.
func TestRedactProject(t *testing.T) {
	r := crash(0)
	red := redact.Redaction{Home: true, Args: true, Project: true}
	rec, err := toRecord(history.OutboxEvent{ID: r.ID, Kind: history.OutboxKindCrash, Payload: mustJSON(t, r)}, red, "/Users/ana")
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	rec.WalkAttributes(func(a attributeKV) bool {
		all = append(all, string(a.Key)+"="+a.Value.String())
		return true
	})
	joined := strings.Join(all, "\n")
	if strings.Contains(joined, "shop") || strings.Contains(joined, "/Users/ana") || strings.Contains(joined, "-w 4") {
		t.Errorf("the project, home or arguments leak:\n%s", joined)
	}
	if !strings.Contains(joined, AttrProject+"=sha256:") {
		t.Errorf("no hashed project:\n%s", joined)
	}
}

// TestNothingWithoutEndpoint: Start refuses an empty or bad endpoint (the
// app does not call it then; see app/export_test.go for the goroutines).
func TestNothingWithoutEndpoint(t *testing.T) {
	for _, ep := range []string{"", "127.0.0.1:4318", "ftp://x"} {
		if _, err := Start(context.Background(), Config{Endpoint: ep, Outbox: openDB(t)}); err == nil {
			t.Errorf("Start(%q) did not fail", ep)
		}
	}
}

type attributeKV = attribute.KeyValue

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKicksDoNotPostpone: a steady stream of events (a crash loop) is sent
// while it lasts, not after it stops: each Kick does not push the send back.
func TestKicksDoNotPostpone(t *testing.T) {
	fc := &fakeCollector{}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	d := openDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := Start(ctx, Config{Endpoint: srv.URL + "/base", Outbox: d, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the first look, at start, finds nothing
	end := time.Now().Add(4 * time.Second)
	for i := 0; time.Now().Before(end); i++ {
		d.MarkSeen(crash(i%20), time.Now())
		d.Save()
		e.Kick()
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(fc.records()); n == 0 {
		t.Fatal("nothing sent while events kept coming")
	}
}
