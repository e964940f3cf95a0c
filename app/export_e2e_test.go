package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/forkwatch/forkwatch/settings/managed"
)

// The end-to-end export test runs a real OpenTelemetry Collector, built
// from the collector's own Go modules in build/otelcol (its own module, so
// the app's go.mod never gains them), and the real `forkwatch watch`.

var (
	colOnce sync.Once
	colPath string
	colErr  error
	colTook time.Duration
)

// collectorBin builds build/otelcol once per source version into a cache
// folder in the user's cache folder, as found when the tests started (a
// cold build takes minutes: it is reused by later runs; the temporary
// folder would not do, TestMain makes a fresh one for every run). Under CI a failed build fails the test; elsewhere
// it skips (no network for the module proxy, say).
func collectorBin(t *testing.T) string {
	t.Helper()
	colOnce.Do(func() {
		if p := os.Getenv("FORKWATCH_OTELCOL_BIN"); p != "" {
			// .ci/run builds the collector in the background while the
			// other checks run: wait for it (or for its failure mark).
			colPath, colErr = waitForFile(p, 20*time.Minute)
			return
		}
		src, err := filepath.Abs(filepath.Join("..", "build", "otelcol"))
		if err != nil {
			colErr = err
			return
		}
		h := sha256.New()
		for _, f := range []string{"go.mod", "go.sum", "main.go"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				colErr = err
				return
			}
			h.Write(b)
		}
		dir := filepath.Join(userCacheDir, "forkwatch-otelcol-"+hex.EncodeToString(h.Sum(nil))[:16])
		colPath = filepath.Join(dir, "otelcol-forkwatch")
		if _, err := os.Stat(colPath); err == nil {
			return
		}
		start := time.Now()
		cmd := goCommand("build", "-o", colPath+".tmp", ".")
		cmd.Dir = src
		out, err := cmd.CombinedOutput()
		if err == nil {
			err = os.Rename(colPath+".tmp", colPath)
		}
		colTook = time.Since(start)
		if err != nil {
			colErr = fmt.Errorf("build the collector (%v): %v\n%s", colTook.Round(time.Second), err, out)
		}
	})
	if colErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(colErr)
		}
		t.Skip(colErr)
	}
	if colTook > 0 {
		t.Logf("collector built in %v", colTook.Round(time.Second))
	}
	return colPath
}

// waitForFile waits until p exists (the collector built elsewhere) or
// p+".failed" does (its build failed), at most limit.
func waitForFile(p string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if b, err := os.ReadFile(p + ".failed"); err == nil {
			return "", fmt.Errorf("the collector's build failed: %s", b)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return "", fmt.Errorf("no collector at %s after %v", p, limit)
}

// collector is one run of the collector, writing what it receives to out.
type collector struct {
	cmd  *exec.Cmd
	out  string
	logs *strings.Builder
}

func startCollector(t *testing.T, bin string, port int, out string) *collector {
	t.Helper()
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  file:
    path: %q
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, port, out)
	cfgPath := out + ".yaml"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &collector{cmd: exec.Command(bin, "--config", cfgPath), out: out, logs: &strings.Builder{}}
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.stop() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector did not listen on %d: %s", port, c.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *collector) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// otlpRecord is one log record as the file exporter wrote it (OTLP JSON),
// with its resource's attributes.
type otlpRecord struct {
	EventName string
	Attrs     map[string]string
	Resource  map[string]string
}

type otlpKV struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

func kvMap(kvs []otlpKV) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		for _, v := range kv.Value {
			m[kv.Key] = fmt.Sprint(v)
		}
	}
	return m
}

// readRecords reads every record in the collectors' output files.
func readRecords(t *testing.T, files ...string) []otlpRecord {
	t.Helper()
	var recs []otlpRecord
	for _, f := range files {
		fh, err := os.Open(f)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			var line struct {
				ResourceLogs []struct {
					Resource struct {
						Attributes []otlpKV `json:"attributes"`
					} `json:"resource"`
					ScopeLogs []struct {
						LogRecords []struct {
							EventName  string   `json:"eventName"`
							Attributes []otlpKV `json:"attributes"`
						} `json:"logRecords"`
					} `json:"scopeLogs"`
				} `json:"resourceLogs"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				continue // a line cut by the collector's stop
			}
			for _, rl := range line.ResourceLogs {
				res := kvMap(rl.Resource.Attributes)
				for _, sl := range rl.ScopeLogs {
					for _, lr := range sl.LogRecords {
						recs = append(recs, otlpRecord{EventName: lr.EventName, Attrs: kvMap(lr.Attributes), Resource: res})
					}
				}
			}
		}
		fh.Close()
	}
	return recs
}

// crashIDs counts each crash's arrivals by incident id.
func crashIDs(recs []otlpRecord) map[string]int {
	ids := map[string]int{}
	for _, r := range recs {
		if r.EventName == "app.crash" {
			ids[r.Attrs["forkwatch.incident_id"]]++
		}
	}
	return ids
}

// waitArrived waits until every id in want arrived.
func waitArrived(t *testing.T, want []string, timeout time.Duration, files ...string) map[string]int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ids := crashIDs(readRecords(t, files...))
		missing := 0
		for _, id := range want {
			if ids[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d crashes never arrived (have %d ids)", missing, len(want), len(ids))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// crashFeeder writes distinct crash reports (a real report, each with its
// own incident id) into a folder.
type crashFeeder struct {
	t    *testing.T
	dir  string
	data string
	n    int
}

func (f *crashFeeder) feed(k int) []string {
	var ids []string
	for range k {
		f.n++
		id := fmt.Sprintf("A357AD50-B0BC-47E5-98C2-%012d", f.n)
		d := strings.ReplaceAll(f.data, "A357AD50-B0BC-47E5-98C2-CEFFD4342928", id)
		tmp := filepath.Join(f.dir, fmt.Sprintf(".t%d", f.n))
		os.WriteFile(tmp, []byte(d), 0o644)
		if err := os.Rename(tmp, filepath.Join(f.dir, fmt.Sprintf("Python-%04d.ips", f.n))); err != nil {
			f.t.Fatal(err)
		}
		ids = append(ids, "incident:"+id) // report.Report.ID of a report with an incident id
	}
	return ids
}

// detected waits for watch --json to print k crashes.
func detected(t *testing.T, p *proc, k int) {
	t.Helper()
	for i := 0; i < k; i++ {
		if ev := p.event(wait); ev["kind"] != "crash" {
			t.Fatalf("got %v", ev)
		}
	}
}

// TestExportToRealCollector: crashes fed to the real `forkwatch watch`
// arrive at a real collector with the documented attributes; with the
// collector stopped mid-stream, 20 crashes, then the collector back: all 20
// arrive, none twice; Forkwatch restarted while the collector is down: the
// same.
func TestExportToRealCollector(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs an OpenTelemetry Collector")
	}
	bin := collectorBin(t)
	begin := time.Now()
	defer func() {
		t.Logf("export end-to-end test (without the collector build) took %v", time.Since(begin).Round(100*time.Millisecond))
	}()

	port := freePort(t)
	out := t.TempDir()
	env, home := exportEnv(t, port)

	feeder, args := exportFeeder(t, home)

	var files []string
	newOut := func() string {
		f := filepath.Join(out, fmt.Sprintf("logs-%d.jsonl", len(files)))
		files = append(files, f)
		return f
	}

	// 1. Collector up: crashes arrive with the documented attributes.
	col := startCollector(t, bin, port, newOut())
	p := startForkwatch(t, env, args...)
	p.ready()
	first := feeder.feed(3)
	detected(t, p, 3)
	waitArrived(t, first, 30*time.Second, files...)
	checkExportedCrash(t, files, first[0], home)

	// 2. Collector stopped mid-stream, 20 crashes, collector back.
	col.stop()
	second := feeder.feed(20)
	detected(t, p, 20)
	waitOutbox(t, env, 20) // recorded while the collector is down (and tried: max backoff 1 s)
	col = startCollector(t, bin, port, newOut())
	waitArrived(t, second, 60*time.Second, files...)

	// 3. Collector down, crashes, Forkwatch restarted, collector back.
	col.stop()
	third := feeder.feed(5)
	detected(t, p, 5)
	waitOutbox(t, env, 5) // committed to the outbox before Forkwatch stops
	if code := p.stop(); code != 0 {
		t.Fatalf("watch exit %d: %s", code, p.stderr())
	}
	p = startForkwatch(t, env, args...)
	p.ready()
	time.Sleep(2 * time.Second) // it tries, and fails, while the collector is down
	startCollector(t, bin, port, newOut())
	waitArrived(t, third, 60*time.Second, files...)

	time.Sleep(2 * time.Second) // anything sent twice would show by now
	ids := crashIDs(readRecords(t, files...))
	all := append(append(append([]string{}, first...), second...), third...)
	for _, id := range all {
		if ids[id] != 1 {
			t.Errorf("%s arrived %d times", id, ids[id])
		}
	}
	if len(ids) != len(all) {
		t.Errorf("%d distinct crashes arrived, want %d", len(ids), len(all))
	}
	// status shows the outbox, empty now.
	st, _ := runBinStdout(t, env, "status")
	if !strings.Contains(st, fmt.Sprintf("Export: to http://127.0.0.1:%d, all sent", port)) {
		t.Errorf("status does not show the export line:\n%s", st)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("restarted watch exit %d: %s", code, p.stderr())
	}
}

// exportEnv is the environment of a `watch` that exports to the collector
// on port: the user's own preference, as `defaults write com.forkwatch.app
// ExportEndpoint …` writes it, and no profile (an empty stand-in folder,
// so that a Mac running the test never reads its real one).
func exportEnv(t *testing.T, port int) (env []string, home string) {
	env = testEnv(t)
	home = envValue(env, "HOME")
	prefs := filepath.Join(home, "Library", "Preferences", managed.Domain+".plist")
	os.MkdirAll(filepath.Dir(prefs), 0o755)
	b, err := plist.Marshal(map[string]any{
		managed.KeyExportEndpoint: fmt.Sprintf("http://127.0.0.1:%d", port),
		managed.KeyExportHeaders:  map[string]any{"X-Forkwatch-Test": "1"},
	}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(prefs, b, 0o644)
	env = append(env, managed.EnvDir+"="+filepath.Join(home, "no-profiles"))
	return env, home
}

// checkExportedCrash: the record of crash id has the documented
// attributes and resource, with the home folder redacted.
func checkExportedCrash(t *testing.T, files []string, id, home string) {
	t.Helper()
	var rec *otlpRecord
	for _, r := range readRecords(t, files...) {
		if r.Attrs["forkwatch.incident_id"] == id {
			rec = &r
		}
	}
	want := map[string]string{
		"app.crash.id": id, "process.pid": "28566", "process.executable.name": "Python",
		"forkwatch.cause": "crash", "forkwatch.python": "true",
	}
	for k, v := range want {
		if rec.Attrs[k] != v {
			t.Errorf("%s = %q, want %q", k, rec.Attrs[k], v)
		}
	}
	for _, k := range []string{"exception.type", "process.parent_pid", "process.executable.path", "forkwatch.module", "forkwatch.report.path"} {
		if rec.Attrs[k] == "" {
			t.Errorf("no %s in %v", k, rec.Attrs)
		}
	}
	if strings.Contains(rec.Attrs["forkwatch.report.path"], home) {
		t.Errorf("home path not redacted by default: %s", rec.Attrs["forkwatch.report.path"])
	}
	for _, k := range []string{"service.name", "service.version", "host.name", "os.type", "os.version"} {
		if rec.Resource[k] == "" {
			t.Errorf("resource has no %s: %v", k, rec.Resource)
		}
	}
	if rec.Resource["service.name"] != "forkwatch" {
		t.Errorf("service.name %q", rec.Resource["service.name"])
	}

}

// waitOutbox waits until `status` says n events wait in the outbox (the
// collector being down), at most a minute.
func waitOutbox(t *testing.T, env []string, n int) {
	t.Helper()
	want := fmt.Sprintf(", %d waiting", n)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		st, _ := runBinStdout(t, env, "status")
		if strings.Contains(st, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never held %d events:\n%s", n, st)
		}
	}
}

// exportFeeder puts copies of a real report into home's DiagnosticReports;
// args run `watch` on that folder with no --state (the history database,
// and its outbox, in the support folder under this HOME) and retries at
// least every second.
func exportFeeder(t *testing.T, home string) (*crashFeeder, []string) {
	reports := filepath.Join(home, "DiagnosticReports")
	os.MkdirAll(reports, 0o755)
	data, err := os.ReadFile(sample("python313-duckdb-segv-chunkhound.ips"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"watch", "--json", "--reports-dir", reports, "--cores-dir", "", "--quiet-after", "1s", "--export-max-backoff", "1s"}
	return &crashFeeder{t: t, dir: reports, data: string(data)}, args
}
