package export

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/internal/redact"
)

// recorder counts the requests a server got and keeps their headers: the
// attacker's collector.
type recorder struct {
	mu      sync.Mutex
	headers []http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.headers = append(r.headers, req.Header.Clone())
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.headers)
}

// waitFor polls cond (the exporter works on its own goroutine) within a
// generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExportRefusesUserinfo: an endpoint with a user and password is
// refused with one line that repeats neither; the control starts.
func TestExportRefusesUserinfo(t *testing.T) {
	for _, ep := range []string{"https://ana:s3cr3t@otel.example.com:4318/", "http://tok3n@127.0.0.1:4318"} {
		_, err := Start(context.Background(), Config{Endpoint: ep, Outbox: openDB(t)})
		if !errors.Is(err, ErrUserinfo) || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "tok3n") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Start(%q): err = %v", ep, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := Start(ctx, Config{Endpoint: "http://127.0.0.1:4318", Outbox: openDB(t)})
	if err != nil {
		t.Fatalf("control: %v", err)
	}
	cancel()
	<-e.Done()
}

// TestExportRefusesCrossOriginRedirect: the collector answers 307 to
// another host (a real loopback server on another port). Nothing reaches
// it — not the tenant header, not the payload — the events stay pending
// and the status says why. The control: a 308 within the same origin is
// followed and the events arrive.
func TestExportRefusesCrossOriginRedirect(t *testing.T) {
	evil := &recorder{}
	evilSrv := httptest.NewServer(evil)
	defer evilSrv.Close()
	fc := &fakeCollector{}
	mux := http.NewServeMux()
	mux.HandleFunc("/away/v1/logs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evilSrv.URL+"/v1/logs", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved/v1/logs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/base/v1/logs", http.StatusPermanentRedirect)
	})
	mux.Handle("/base/v1/logs", fc)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	d := openDB(t)
	d.MarkSeen(crash(0), time.Now())
	d.Save()
	ctx, cancel := context.WithCancel(context.Background())
	e, err := Start(ctx, Config{
		Endpoint: srv.URL + "/away", Headers: map[string]string{"X-Tenant": "acme-secret"}, Outbox: d,
		MinBackoff: time.Hour, Redact: redact.Redaction{Home: true, Secrets: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed send", func() bool { return e.Status().Failures > 0 })
	cancel()
	<-e.Done()
	if n := evil.count(); n != 0 {
		t.Errorf("the other origin got %d requests (headers %v)", n, evil.headers)
	}
	if st := e.Status(); !strings.Contains(st.LastError, "another origin") {
		t.Errorf("status: %+v", st)
	}
	if ev, _ := d.PendingOutbox(context.Background(), 10); len(ev) != 1 {
		t.Errorf("pending: %d, want the event kept", len(ev))
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	e, err = Start(ctx, Config{Endpoint: srv.URL + "/moved", Outbox: d, MinBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the same-origin redirect's delivery", func() bool { return len(fc.records()) == 1 })
}

// TestExportIgnoresOTELEnv: the user's own OTEL_EXPORTER_OTLP_* variables
// (endpoint, headers with a personal key, compression, timeout, path) are
// set; the events go to Forkwatch's endpoint, with Forkwatch's headers
// only, uncompressed, and nothing reaches the variables' endpoint.
func TestExportIgnoresOTELEnv(t *testing.T) {
	personal := &recorder{}
	personalSrv := httptest.NewServer(personal)
	defer personalSrv.Close()
	fc := &fakeCollector{}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	for k, v := range map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":         personalSrv.URL,
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT":    personalSrv.URL + "/v1/logs",
		"OTEL_EXPORTER_OTLP_HEADERS":          "x-personal-key=pk_live_123",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS":     "x-personal-key=pk_live_456",
		"OTEL_EXPORTER_OTLP_COMPRESSION":      "gzip",
		"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip",
		"OTEL_EXPORTER_OTLP_TIMEOUT":          "1",
		"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT":     "1",
		"OTEL_EXPORTER_OTLP_CERTIFICATE":      "/nonexistent/ca.pem",
	} {
		t.Setenv(k, v)
	}
	d := openDB(t)
	d.MarkSeen(crash(0), time.Now())
	d.Save()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Start(ctx, Config{Endpoint: srv.URL + "/base", Outbox: d})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery to Forkwatch's endpoint", func() bool { return len(fc.records()) == 1 })
	fc.mu.Lock()
	h := fc.headers[0]
	fc.mu.Unlock()
	if h.Get("X-Personal-Key") != "" || h.Get("Content-Encoding") != "" {
		t.Errorf("the variables applied: %v", h)
	}
	if personal.count() != 0 {
		t.Errorf("the variables' endpoint got %d requests", personal.count())
	}
}

// TestDefaultRedactionExport: the reproduction — a parent started
// with `--db-url=postgres://app:PASSWORD@…` — through the real exporter to
// a loopback collector. With the default setting the arguments stay home;
// with "home" (a profile that asks for arguments) they go, the password
// masked; with "none" (the control) the command line goes whole.
func TestDefaultRedactionExport(t *testing.T) {
	const cmd = "/Users/ana/src/shop/.venv/bin/python manage.py runserver --db-url=postgres://app:PASSWORD@db.internal/app"
	for _, c := range []struct {
		setting, want string
	}{
		{"", "~/src/shop/.venv/bin/python"},
		{"home", "~/src/shop/.venv/bin/python manage.py runserver --db-url=postgres://***@db.internal/app"},
		{"none", cmd},
	} {
		t.Run("redact="+c.setting, func(t *testing.T) {
			red, err := redact.Parse(c.setting)
			if err != nil {
				t.Fatal(err)
			}
			fc := &fakeCollector{}
			srv := httptest.NewServer(fc)
			defer srv.Close()
			d := openDB(t)
			r := crash(0)
			r.ParentCommand = cmd
			d.MarkSeen(r, time.Now())
			d.Save()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := Start(ctx, Config{Endpoint: srv.URL + "/base", Outbox: d, Redact: red, Home: "/Users/ana"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "delivery", func() bool { return len(fc.records()) == 1 })
			rec := fc.records()[0]
			if got := rec["process.command_line"]; got != c.want {
				t.Errorf("process.command_line = %q, want %q", got, c.want)
			}
			if c.setting != "none" {
				for k, v := range rec {
					if strings.Contains(v, "PASSWORD") {
						t.Errorf("%s leaks the password: %q", k, v)
					}
				}
			}
		})
	}
}
