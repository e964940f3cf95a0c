package history

import (
	"bytes"
	"context"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	browser "github.com/forkwatch/forkwatch/internal/chromium"
)

// hostile is a process name that would break out of the page's script
// block if the data were not escaped.
const hostile = `</script><script>document.title="pwned"</script>`

// seedDay is one day of the seeded history.
type seedDay struct{ forkSafety, forkChild, other int }

// seed records a history ending at now: 21 days with a known number of
// crashes of each cause, two toggle changes, and three core files of which
// two were removed. It returns the expected counts per day (YYYY-MM-DD).
func seed(t testing.TB, d *DB, now time.Time) (map[string]seedDay, []string) {
	t.Helper()
	loc := d.opts.Location
	want := map[string]seedDay{}
	var paths []string
	id := 0
	projects := []string{"/Users/ana/src/shop-api", "/Users/ana/src/etl", "/Users/ana/notebooks"}
	programs := []string{"python3.12", "gunicorn", "celery", "Python"}
	for day := 20; day >= 0; day-- {
		base := time.Date(now.Year(), now.Month(), now.Day()-day, 9, 0, 0, 0, loc)
		// Fewer fork-safety deaths after the toggle went on (day 8).
		sd := seedDay{forkSafety: (day*7)%5 + 1, forkChild: day % 3, other: (day + 1) % 2}
		if day < 8 {
			sd.forkSafety = day % 2
		}
		want[base.Format(time.DateOnly)] = sd
		add := func(cause string, n int) {
			for k := 0; k < n; k++ {
				id++
				at := base.Add(time.Duration(id%480) * time.Minute)
				r := &report.Report{
					ID: fmt.Sprintf("incident:%08X", id), Format: "ips", PID: 40000 + id,
					Path:    fmt.Sprintf("/Users/ana/Library/Logs/DiagnosticReports/%s-%04d.ips", programs[id%len(programs)], id),
					Process: programs[id%len(programs)], Time: at.Format(time.RFC3339), Cause: cause, Python: true,
					Project: projects[id%len(projects)], Framework: "gunicorn",
				}
				switch cause {
				case report.CauseForkSafety:
					r.Advice = "Set multiprocessing.set_start_method(\"spawn\"), or start the parent with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES."
				case report.CauseForkChild:
					r.Advice = "A child died after fork() before exec(); the environment variable does not help."
				default:
					r.Advice = "Not a fork death."
				}
				if id == 5 {
					r.Process = hostile
				}
				paths = append(paths, r.Path)
				d.MarkSeen(r, at)
			}
		}
		add(report.CauseForkSafety, sd.forkSafety)
		add(report.CauseForkChild, sd.forkChild)
		add(report.CauseCrash, sd.other)
	}
	toggleAt := time.Date(now.Year(), now.Month(), now.Day()-8, 14, 30, 0, 0, loc)
	if err := d.RecordToggle("fork-safety-off", true, "launchctl setenv", toggleAt); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordToggle("coredump-off", true, "", toggleAt.AddDate(0, 0, 3)); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		ago, removedAgo int
		size            int64
	}{{18, 12, 3 << 30}, {15, 9, 5 << 30}, {10, -1, 2 << 30}} {
		found := time.Date(now.Year(), now.Month(), now.Day()-c.ago, 11, 0, 0, 0, loc)
		cf := report.CoreFile{Path: fmt.Sprintf("/cores/core.%d", 900+i), PID: 900 + i, Size: c.size, Complete: true, Process: "python3.12"}
		if err := d.RecordCore(cf, found); err != nil {
			t.Fatal(err)
		}
		if c.removedAgo >= 0 {
			if err := d.RecordCoreRemoved(cf.Path, time.Date(now.Year(), now.Month(), now.Day()-c.removedAgo, 11, 0, 0, 0, loc)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	return want, paths
}

func writeSeededPage(t *testing.T) (string, map[string]seedDay, []string, time.Time) {
	t.Helper()
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	d := openTest(t, filepath.Join(dir, "history.db"), &now)
	want, paths := seed(t, d, now)
	var buf bytes.Buffer
	if err := d.WritePage(context.Background(), &buf, PageOptions{Now: now, Since: now.AddDate(0, 0, -20)}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "history.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return page, want, paths, now
}

// The page as text: safe insertion, no outside references.
func TestPageStatic(t *testing.T) {
	page, _, _, _ := writeSeededPage(t)
	data, _ := os.ReadFile(page)
	s := string(data)
	if strings.Contains(s, hostile) || strings.Contains(s, `<script>document.title="pwned"`) {
		t.Fatal("hostile process name inserted unescaped")
	}
	checkCSP(t, s)
	for _, bad := range []string{"http://", "https://cdn", "src=\"http", "@import"} {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, bad) && !strings.Contains(line, "github.com/leeoniya/uPlot") && !strings.Contains(line, "www.w3.org") {
				t.Errorf("outside reference %q in %.120s", bad, line)
			}
		}
	}
	if !strings.Contains(s, "The MIT License") {
		t.Error("uPlot's licence notice is not in the page")
	}
}

// chromium finds the browser (on macOS also /Applications/Google
// Chrome.app: internal/chromium). In CI (CI=true) a missing browser fails
// the test; elsewhere it is skipped with the line that installs it.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := browser.Find(runtime.GOOS)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v: the page test needs it in CI (apt-get install -y chromium)", err)
	}
	t.Skipf("%v; skipping the browser test (apt-get install -y chromium)", err)
	return ""
}

// runChromium runs headless Chromium with the flags that keep it from
// calling home, and returns stdout and the console lines it logged.
func runChromium(t *testing.T, bin string, args ...string) (string, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The profile and TMPDIR in a short folder whatever the home folder:
	// Chromium's singleton socket must fit sun_path (browser.NewScratch).
	scratch, err := browser.NewScratch(runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Remove()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + scratch.Profile, "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = scratch.Env(os.Environ())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	var console []string
	for _, line := range strings.Split(errb.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return out.String(), console
}

// The page in a real browser: it loads with no console message but its
// own, asks for nothing but itself, and the timeline drawn by the chart
// library has the seeded days and counts; the links point at the reports.
func TestPageInChromium(t *testing.T) {
	bin := chromium(t)
	page, want, paths, now := writeSeededPage(t)
	data, _ := os.ReadFile(page)

	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		t.Logf("request: %s %s", r.Method, r.URL)
		if r.URL.Path != "/history.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(data)
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server not on 127.0.0.1: %s", srv.URL)
	}

	dom, console := runChromium(t, bin, "--dump-dom", srv.URL+"/history.html")
	mu.Lock()
	got := append([]string(nil), requests...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "GET /history.html" {
		t.Errorf("requests = %q, want only the page", got)
	}
	ready := 0
	for _, c := range console {
		if strings.Contains(c, "forkwatch-history-ready") {
			ready++
			continue
		}
		t.Errorf("console: %s", c)
	}
	if ready != 1 {
		t.Fatalf("the page's ready message was not logged (console %q): did the script run?", console)
	}

	attr := func(id, name string) string {
		re := regexp.MustCompile(`<[^>]*\bid="` + id + `"[^>]*>`)
		tag := re.FindString(dom)
		m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			t.Fatalf("no %s on #%s in %.200s", name, id, tag)
		}
		return m[1]
	}
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	if !strings.Contains(body, `data-ready="1"`) || strings.Contains(body, "data-error") {
		t.Fatalf("page script did not finish: %s", body)
	}
	if got := attr("timeline", "data-days"); got != "21" {
		t.Errorf("timeline days = %s, want 21", got)
	}
	var perDay []string
	total, fs := 0, 0
	for i := 20; i >= 0; i-- {
		day := time.Date(now.Year(), now.Month(), now.Day()-i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		w := want[day]
		n := w.forkSafety + w.forkChild + w.other
		perDay = append(perDay, fmt.Sprintf("%s:%d", day, n))
		total += n
		fs += w.forkSafety
	}
	if got := attr("timeline", "data-per-day"); got != strings.Join(perDay, ",") {
		t.Errorf("per day:\n got %s\nwant %s", got, strings.Join(perDay, ","))
	}
	if got := attr("timeline", "data-total"); got != fmt.Sprint(total) {
		t.Errorf("total = %s, want %d", got, total)
	}
	if got := attr("timeline", "data-fork-safety"); got != fmt.Sprint(fs) {
		t.Errorf("fork-safety = %s, want %d", got, fs)
	}
	if got := attr("timeline", "data-marks"); got != "2" {
		t.Errorf("toggle marks drawn = %s, want 2", got)
	}
	if got := attr("cores", "data-days"); got != "21" {
		t.Errorf("core chart days = %s", got)
	}
	if !strings.Contains(dom, "<canvas") {
		t.Error("no chart canvas in the DOM")
	}
	links := regexp.MustCompile(`<a class="report" href="([^"]*)"`).FindAllStringSubmatch(dom, -1)
	if len(links) != len(paths) {
		t.Errorf("%d report links, want %d", len(links), len(paths))
	}
	seeded := map[string]bool{}
	for _, p := range paths {
		seeded["file://"+p] = true
	}
	for _, l := range links {
		if !seeded[l[1]] {
			t.Errorf("link %q is not a seeded report", l[1])
		}
	}
	if !strings.Contains(dom, "&lt;/script&gt;&lt;script&gt;document.title") || strings.Contains(dom, "<title>pwned") {
		t.Error("the hostile process name is not shown as text")
	}

	shot := filepath.Join(t.TempDir(), "history.png")
	// From file://, as users open it: again nothing in the console but the
	// page's own line.
	_, console = runChromium(t, bin, "--screenshot="+shot, "--window-size=1200,1400", "--hide-scrollbars", "file://"+page)
	if len(console) != 1 || !strings.Contains(console[0], "forkwatch-history-ready") {
		t.Errorf("console from file://: %q", console)
	}
	fi, err := os.Stat(shot)
	if err != nil || fi.Size() < 20_000 {
		t.Fatalf("screenshot: %v (%v bytes)", err, fi)
	}
	if dst := os.Getenv("FORKWATCH_SCREENSHOT"); dst != "" {
		png, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s", dst)
	}
}

var reCSP = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)

// checkCSP: the page's policy lets only its own inline scripts run (one
// hash per script element that runs, no 'unsafe-inline'), fetches nothing,
// and forbids <base> and form submission.
func checkCSP(t *testing.T, page string) {
	t.Helper()
	m := reCSP.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSP meta tag")
	}
	dirs := map[string]string{}
	for _, d := range strings.Split(m[1], ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), " ")
		dirs[name] = val
	}
	for name, want := range map[string]string{"default-src": "'none'", "base-uri": "'none'", "form-action": "'none'", "img-src": "data:"} {
		if dirs[name] != want {
			t.Errorf("CSP %s = %q, want %q (policy %q)", name, dirs[name], want, m[1])
		}
	}
	script := dirs["script-src"]
	if strings.Contains(script, "unsafe") || script == "" {
		t.Errorf("script-src = %q: no 'unsafe-inline', only hashes", script)
	}
	srcs := strings.Fields(script)
	if n := len(inlineScript.FindAllString(page, -1)); n != len(srcs) || n < 2 {
		t.Errorf("script-src has %d sources for %d inline scripts: %q", len(srcs), n, script)
	}
	for _, s := range srcs {
		if !regexp.MustCompile(`^'sha256-[A-Za-z0-9+/]{43}='$`).MatchString(s) {
			t.Errorf("script-src source %q is not a sha256 hash", s)
		}
	}
}

// TestPageEmptyInChromium: a history with no crash, no toggle change and
// no core file renders in a real browser without a console error, its
// scripts allowed by their hashes; a script injected into the page (as a
// hostile string would have to be) is refused by the policy.
func TestPageEmptyInChromium(t *testing.T) {
	bin := chromium(t)
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	d := openTest(t, filepath.Join(dir, "history.db"), &now)
	var buf bytes.Buffer
	if err := d.WritePage(context.Background(), &buf, PageOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	checkCSP(t, buf.String())
	page := filepath.Join(dir, "history.html")
	os.WriteFile(page, buf.Bytes(), 0o600)
	dom, console := runChromium(t, bin, "--dump-dom", "file://"+page)
	if len(console) != 1 || !strings.Contains(console[0], "forkwatch-history-ready days=30 total=0") {
		t.Errorf("console of the empty page: %q", console)
	}
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	if !strings.Contains(body, `data-ready="1"`) || strings.Contains(body, "data-error") {
		t.Errorf("page script did not finish: %s", body)
	}

	injected := bytes.Replace(buf.Bytes(), []byte("</body>"), []byte(`<script>document.body.setAttribute("data-injected","1")</script></body>`), 1)
	evil := filepath.Join(dir, "injected.html")
	os.WriteFile(evil, injected, 0o600)
	dom, console = runChromium(t, bin, "--dump-dom", "file://"+evil)
	if body := regexp.MustCompile(`<body[^>]*>`).FindString(dom); strings.Contains(body, "data-injected") || !strings.Contains(body, `data-ready="1"`) {
		t.Errorf("injected script ran, or the page's own did not: %s", body)
	}
	refused := false
	for _, c := range console {
		refused = refused || strings.Contains(c, "Content Security Policy")
	}
	if !refused {
		t.Errorf("no CSP refusal logged for the injected script: %q", console)
	}
}
