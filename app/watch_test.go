package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const wait = 10 * time.Second

type watchSetup struct {
	dir, reports, cores, state string
}

func newWatchSetup(t *testing.T) watchSetup {
	d := t.TempDir()
	return watchSetup{dir: d, reports: filepath.Join(d, "DiagnosticReports"), cores: filepath.Join(d, "cores"), state: filepath.Join(d, "state.json")}
}

func (s watchSetup) args(extra ...string) []string {
	return append([]string{"watch", "--json", "--reports-dir", s.reports, "--cores-dir", s.cores, "--state", s.state, "--quiet-after", "1s", "--core-settle", "700ms"}, extra...)
}

// ready waits until the watcher has set its watches up (it logs nothing on
// stdout before events, so wait for the state of an empty sweep instead).
func settle() { time.Sleep(300 * time.Millisecond) }

// TestWatchReportsCopiedIn: a real report copied into a watched folder shows
// up as one JSON line with the right classification, in both watch modes.
func TestWatchReportsCopiedIn(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"names", "folder-only"} {
		t.Run(mode, func(t *testing.T) {
			s := newWatchSetup(t)
			os.MkdirAll(s.reports, 0o755)
			var extra []string
			if mode == "folder-only" {
				extra = []string{"--folder-only"}
			}
			p := startForkwatch(t, nil, s.args(extra...)...)
			p.ready()
			cases := []struct {
				file, cause, process string
				python               bool
			}{
				{"python37-objc-fork-fontbakery-2982.crash", "fork-safety", "Python", true},
				{"python313-duckdb-segv-chunkhound.ips", "crash", "Python", true},
				{"monerod-sigbus-fork-child-monero-gui-4380.ips", "fork-child", "monerod", false},
			}
			for i, c := range cases {
				name := fmt.Sprintf("Proc%d-2026-05-14-15054%d.ips", i, i)
				if strings.HasSuffix(c.file, ".crash") {
					name = fmt.Sprintf("Proc%d_2026-05-14-15054%d_host.crash", i, i)
				}
				src := sample(c.file)
				data, _ := os.ReadFile(src)
				if strings.HasSuffix(c.file, ".crash") && !strings.Contains(string(data), "Binary Images:") {
					// Excerpts stop before the image list; a report on disk has one.
					data = append(data, []byte("\nBinary Images:\n       0x10c7a5000 -        0x10c7c6ff7 +Python (3.7.7) <9F3A2D16> /usr/local/bin/python3\n")...)
					os.WriteFile(filepath.Join(s.dir, "src"), data, 0o644)
					src = filepath.Join(s.dir, "src")
				}
				copyFile(t, src, filepath.Join(s.reports, name))
				ev := p.event(wait)
				if ev["kind"] != "crash" || ev["cause"] != c.cause || ev["process"] != c.process || ev["python"] != c.python {
					t.Errorf("%s: got %v", c.file, ev)
				}
				if ev["path"] != filepath.Join(s.reports, name) {
					t.Errorf("path = %v", ev["path"])
				}
			}
			p.quiet(500 * time.Millisecond)
			if code := p.stop(); code != 0 {
				t.Errorf("exit code %d after SIGTERM; stderr %s", code, p.stderr())
			}
		})
	}
}

// TestWatchWrittenInPieces: a report created empty and written in pieces is
// emitted once, complete, never half-parsed.
func TestWatchWrittenInPieces(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"names", "folder-only"} {
		t.Run(mode, func(t *testing.T) {
			s := newWatchSetup(t)
			os.MkdirAll(s.reports, 0o755)
			var extra []string
			if mode == "folder-only" {
				extra = []string{"--folder-only"}
			}
			p := startForkwatch(t, nil, s.args(extra...)...)
			p.ready()
			data, _ := os.ReadFile(sample("python313-duckdb-segv-chunkhound.ips"))
			f, err := os.Create(filepath.Join(s.reports, "Python-2026-05-14-150547.ips"))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4; i++ {
				part := data[i*len(data)/4 : (i+1)*len(data)/4]
				f.Write(part)
				f.Sync()
				time.Sleep(150 * time.Millisecond)
			}
			f.Close()
			ev := p.event(wait)
			if ev["kind"] != "crash" || ev["pid"] != float64(28566) || ev["partial"] != nil {
				t.Fatalf("got %v", ev)
			}
			p.quiet(1500 * time.Millisecond)
			// Said once that it waits for the file to finish (issue 32).
			p.mu.Lock()
			if len(p.waiting) != 1 || p.waiting[0]["note"] == "" {
				t.Errorf("waiting notes %v, want one", p.waiting)
			}
			p.mu.Unlock()
		})
	}
}

// TestWatchNoRepeats: a report moved into Retired/, and a restart, do not
// bring the same crash again; the first run lists history without notifying.
func TestWatchNoRepeats(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	copyFile(t, sample("python313-duckdb-segv-chunkhound.ips"), filepath.Join(s.reports, "Python-1.ips"))

	p := startForkwatch(t, nil, s.args()...)
	ev := p.event(wait)
	if ev["kind"] != "crash" || ev["history"] != true {
		t.Fatalf("first run should list the old report as history: %v", ev)
	}
	// Retired/ appears and the report moves there: same crash, no event.
	os.MkdirAll(filepath.Join(s.reports, "Retired"), 0o755)
	p.waitLog("watching folder\" path="+filepath.Join(s.reports, "Retired"), 1)
	if err := os.Rename(filepath.Join(s.reports, "Python-1.ips"), filepath.Join(s.reports, "Retired", "Python-1.ips")); err != nil {
		t.Fatal(err)
	}
	p.quiet(1500 * time.Millisecond)
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// Restart: nothing old comes back; a new crash is new, not history.
	p = startForkwatch(t, nil, s.args()...)
	p.quiet(1500 * time.Millisecond)
	copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(s.reports, "monerod-2.ips"))
	ev = p.event(wait)
	if ev["process"] != "monerod" || ev["history"] != nil {
		t.Fatalf("got %v", ev)
	}
}

// TestWatchMissingFolders: folders that do not exist yet are picked up when
// they appear, and again after being deleted and recreated.
func TestWatchMissingFolders(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	s.reports = filepath.Join(s.dir, "not", "yet", "DiagnosticReports")
	p := startForkwatch(t, nil, s.args()...)
	p.ready()
	// The folders appear one level at a time (mkdir -p, as ReportCrash's
	// first report makes them): a level made before the watch on the level
	// above is in place raises no event, and the watcher must look again
	// (monitor's TestWatchNestedFolderMadeDuringWatch makes that moment
	// happen every time; here it happens when it happens).
	appear := func() {
		if err := os.MkdirAll(s.reports, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	appear()
	p.waitLog("watching folder\" path="+s.reports, 1)
	copyFile(t, sample("python313-duckdb-segv-chunkhound.ips"), filepath.Join(s.reports, "a.ips"))
	if ev := p.event(wait); ev["pid"] != float64(28566) {
		t.Fatalf("got %v", ev)
	}
	if err := os.RemoveAll(filepath.Join(s.dir, "not")); err != nil {
		t.Fatal(err)
	}
	p.waitLog("folder removed or renamed; watching for it again\" path="+s.reports, 1)
	appear()
	p.waitLog("watching folder\" path="+s.reports, 2)
	copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(s.reports, "b.ips"))
	if ev := p.event(wait); ev["pid"] != float64(7264) {
		t.Fatalf("after recreate: got %v", ev)
	}
}

// TestWatchBadFiles: a report cut in half that stays so is classified
// from what is there after the quiet time (a partial crash, as inspect
// does); a FIFO and a symlink to /dev/zero named like reports give one
// error each; other diagnostics are skipped quietly; good reports around
// them are still reported once.
func TestWatchBadFiles(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	p := startForkwatch(t, nil, s.args()...)
	p.ready()

	data, _ := os.ReadFile(sample("python313-duckdb-segv-chunkhound.ips"))
	os.WriteFile(filepath.Join(s.reports, "cut.ips"), data[:len(data)/2], 0o644)
	if err := syscall.Mkfifo(filepath.Join(s.reports, "fifo.crash"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/dev/zero", filepath.Join(s.reports, "zero.ips"))
	os.WriteFile(filepath.Join(s.reports, "JetsamEvent-2026-01-01-000000.ips"), []byte(`{"bug_type":"298"}`+"\n{}"), 0o644)
	os.WriteFile(filepath.Join(s.reports, "Python-2026.cpu_resource.diag"), []byte("noise"), 0o644)
	os.WriteFile(filepath.Join(s.reports, "hang.ips"), []byte(`{"bug_type":"409","name":"Python"}`+"\n{}"), 0o644)
	os.WriteFile(filepath.Join(s.reports, "garbage.crash"), []byte("\x00\x01\x02 not a report"), 0o644)
	copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(s.reports, "good.ips"))

	got := map[string]map[string]any{}
	deadline := time.Now().Add(wait)
	for len(got) < 5 && time.Now().Before(deadline) {
		ev := p.event(wait)
		name := filepath.Base(ev["path"].(string))
		if _, dup := got[name]; dup {
			t.Errorf("second event for %s: %v", name, ev)
		}
		got[name] = ev
	}
	for name, kind := range map[string]string{"good.ips": "crash", "fifo.crash": "error", "zero.ips": "error", "garbage.crash": "error", "cut.ips": "crash"} {
		ev, ok := got[name]
		if !ok {
			t.Errorf("no event for %s", name)
			continue
		}
		if ev["kind"] != kind {
			t.Errorf("%s: %v", name, ev)
		}
	}
	if ev := got["cut.ips"]; ev != nil && ev["partial"] != true {
		t.Errorf("cut.ips should be a partial crash: %v", ev)
	}
	p.quiet(1500 * time.Millisecond)
}

// TestWatchCoreFiles: a core file is announced when it appears and again,
// complete, with its final size once it stops growing, named after the
// crash of the same pid. Symlinks and folders named like cores are refused.
func TestWatchCoreFiles(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	os.MkdirAll(s.cores, 0o1777)
	p := startForkwatch(t, nil, s.args()...)
	p.ready()
	copyFile(t, sample("python313-duckdb-segv-chunkhound.ips"), filepath.Join(s.reports, "a.ips"))
	if ev := p.event(wait); ev["kind"] != "crash" {
		t.Fatalf("got %v", ev)
	}
	f, err := os.Create(filepath.Join(s.cores, "core.28566"))
	if err != nil {
		t.Fatal(err)
	}
	ev := p.event(wait)
	if ev["kind"] != "core" || ev["complete"] != false || ev["pid"] != float64(28566) || ev["process"] != "Python" {
		t.Fatalf("got %v", ev)
	}
	chunk := make([]byte, 1<<20)
	for i := 0; i < 5; i++ {
		f.Write(chunk)
		time.Sleep(200 * time.Millisecond)
	}
	f.Close()
	ev = p.event(wait)
	if ev["kind"] != "core" || ev["complete"] != true || ev["size"] != float64(5<<20) {
		t.Fatalf("got %v", ev)
	}
	os.Symlink("/etc/passwd", filepath.Join(s.cores, "core.1"))
	os.Mkdir(filepath.Join(s.cores, "core.2"), 0o755)
	for i := 0; i < 2; i++ {
		ev = p.event(wait)
		if ev["kind"] != "error" {
			t.Fatalf("got %v", ev)
		}
	}
	p.quiet(1500 * time.Millisecond)
}

// TestWatchCorruptState: a corrupt state file is set aside, not fatal.
func TestWatchCorruptState(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	os.WriteFile(s.state, []byte(`{"version":1,"seen":{`), 0o600)
	p := startForkwatch(t, nil, s.args()...)
	p.ready()
	copyFile(t, sample("python313-duckdb-segv-chunkhound.ips"), filepath.Join(s.reports, "a.ips"))
	if ev := p.event(wait); ev["kind"] != "crash" {
		t.Fatalf("got %v", ev)
	}
	if !strings.Contains(p.stderr(), "unreadable") {
		t.Errorf("stderr should say the state was unreadable: %s", p.stderr())
	}
	matches, _ := filepath.Glob(s.state + ".corrupt-*")
	if len(matches) != 1 {
		t.Errorf("corrupt state not set aside: %v", matches)
	}
}

// TestWatchBurst: many reports at once are all recorded exactly once.
func TestWatchBurst(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	p := startForkwatch(t, nil, s.args()...)
	p.ready()
	data, _ := os.ReadFile(sample("python313-duckdb-segv-chunkhound.ips"))
	const n = 300
	for i := 0; i < n; i++ {
		// Each a distinct crash: a distinct incident id.
		d := strings.Replace(string(data), "A357AD50-B0BC-47E5-98C2-CEFFD4342928", fmt.Sprintf("A357AD50-B0BC-47E5-98C2-%012d", i), -1)
		tmp := filepath.Join(s.reports, fmt.Sprintf(".t%d", i))
		os.WriteFile(tmp, []byte(d), 0o644)
		os.Rename(tmp, filepath.Join(s.reports, fmt.Sprintf("Python-%04d.ips", i)))
	}
	seen := map[string]bool{}
	for len(seen) < n {
		ev := p.event(wait)
		id := ev["id"].(string)
		if seen[id] {
			t.Fatalf("duplicate %s", id)
		}
		seen[id] = true
	}
	p.quiet(time.Second)
}
