package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/service"
	"github.com/forkwatch/forkwatch/app/tray"
	"github.com/forkwatch/forkwatch/monitor/forktrace"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings"
)

// nobodyUID is "another user" in the hostile tests (run as root).
const nobodyUID = 65534

// chownTree gives a tree to uid, as another user's files are.
func chownTree(t *testing.T, root string, uid int) {
	t.Helper()
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// markerVenv makes a venv whose python3 would leave marker behind if it
// ever ran (and answers nothing, so a run would also be visible as an
// error). The loaded image path of a crash in it is returned too.
func markerVenv(t *testing.T, venv, marker string) (image string) {
	t.Helper()
	site := filepath.Join(venv, "lib", "python3.12", "site-packages")
	for _, d := range []string{filepath.Join(venv, "bin"), site} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(venv, "pyvenv.cfg"), []byte("home = /usr/bin\n"), 0o644)
	script := "#!/bin/sh\necho \"ran $0 $*\" >> " + marker + "\n"
	if err := os.WriteFile(filepath.Join(venv, "bin", "python3"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	image = filepath.Join(site, "evil.cpython-312-darwin.so")
	os.WriteFile(image, []byte("\x7fELF"), 0o755)
	return image
}

// hostileReport is a real .crash report of a fork-safety death, retargeted
// at pid and made to load an extension module from image.
func hostileReport(t *testing.T, pid int, image string) []byte {
	t.Helper()
	data, err := os.ReadFile(sample("python37-objc-fork-fontbakery-2982.crash"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		"Process:               Python [35706]", fmt.Sprintf("Process:               Python [%d]", pid),
		"Date/Time:             2020-07-17 14:40:47.658 +0200", "Date/Time:             "+time.Now().Format("2006-01-02 15:04:05.000 -0700"),
	).Replace(string(data))
	return []byte(s + "\nBinary Images:\n       0x10c7a5000 -        0x10c7c6ff7 +Python (3.7.7) <9F3A2D16> /usr/local/bin/python3\n" +
		"       0x10d000000 -        0x10d0fffff +evil.cpython-312-darwin.so (0) <00000000> " + image + "\n")
}

// TestHostileOtherUsersVenv is the attack of issue 18: a crash report (any
// local process can write one) names an extension module in another
// user's venv. After `watch` has recorded it, nothing Forkwatch does runs
// that venv's python3: not `watch`, not `doctor` (which checks the venvs of
// recent crashes), not `trace status`, not the app's start-up (the
// controller reads the fork tracer's state of those venvs). Each lists it
// as "not run" with the reason. The same venv owned by the user is run by
// doctor (the control: the marker can appear). An interpreter on PATH in
// a world-writable folder is not run either.
func TestHostileOtherUsersVenv(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
	h := newHostileHome(t)
	h.watchRecords()
	h.doctorAndTraceRefuse()
	h.appStartUpRefuses()
	if _, _, code := h.cli("trace", "enable", h.evilVenv); code == 0 {
		t.Error("trace enable of another user's venv succeeded")
	}
	h.ran("trace enable")
}

// hostileHome is a user's home beside another user's venv and a
// world-writable folder on PATH holding a python3: each program there
// writes a marker when run, and no marker may ever appear.
type hostileHome struct {
	t                                   *testing.T
	exe, dir, home, reports             string
	env                                 []string
	evilVenv, ownVenv                   string
	evilImage, ownImage                 string
	marker, ownMarker, pathMarker, wbin string
}

func newHostileHome(t *testing.T) *hostileHome {
	h := &hostileHome{t: t, exe: forkwatchBin(t)} // built before PATH loses the go command
	h.dir = t.TempDir()
	h.home = filepath.Join(h.dir, "home")
	bin := filepath.Join(h.dir, "bin")
	state := filepath.Join(h.dir, "state")
	h.reports = filepath.Join(h.dir, "DiagnosticReports")
	for _, d := range []string{h.home, bin, state, h.reports, filepath.Join(h.dir, "tmp")} {
		os.MkdirAll(d, 0o755)
	}
	for _, n := range []string{"sysctl", "launchctl", "ps"} {
		b, err := os.ReadFile(filepath.Join("..", "settings", "doctor", "testdata", "fakes", n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(bin, n), b, 0o755)
	}
	os.WriteFile(filepath.Join(state, "sysctl.kern.coredump"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(state, "sysctl.kern.corefile"), []byte("/cores/core.%P\n"), 0o644)

	// Another user's venv, as under /tmp/evil or /Users/Shared.
	h.marker = filepath.Join(h.dir, "marker-evil")
	h.evilVenv = filepath.Join(h.dir, "evil", ".venv")
	h.evilImage = markerVenv(t, h.evilVenv, h.marker)
	chownTree(t, filepath.Join(h.dir, "evil"), nobodyUID)
	// The user's own venv, for the control.
	h.ownMarker = filepath.Join(h.dir, "marker-own")
	h.ownVenv = filepath.Join(h.home, "src", "shop", ".venv")
	h.ownImage = markerVenv(t, h.ownVenv, h.ownMarker)
	// A world-writable folder on PATH holding a python3.
	h.wbin = filepath.Join(h.dir, "shared-bin")
	os.Mkdir(h.wbin, 0o755)
	os.Chmod(h.wbin, 0o1777)
	h.pathMarker = filepath.Join(h.dir, "marker-path")
	os.WriteFile(filepath.Join(h.wbin, "python3"), []byte("#!/bin/sh\necho ran >> "+h.pathMarker+"\n"), 0o755)

	h.env = []string{"HOME=" + h.home, "XDG_CONFIG_HOME=" + filepath.Join(h.home, ".config"), "PATH=" + bin + ":" + h.wbin + ":/usr/bin:/bin",
		"FAKE_STATE=" + state, "TMPDIR=" + filepath.Join(h.dir, "tmp"), "LANG=C"}
	for _, kv := range h.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return h
}

// ran fails when a program another user controls has run.
func (h *hostileHome) ran(when string) {
	h.t.Helper()
	for _, m := range []string{h.marker, h.pathMarker} {
		if b, err := os.ReadFile(m); err == nil {
			h.t.Fatalf("%s: a program another user controls ran: %s", when, b)
		}
	}
}

// cli runs the binary in the hostile home.
func (h *hostileHome) cli(args ...string) (string, string, int) {
	h.t.Helper()
	cmd := exec.Command(h.exe, args...)
	cmd.Env = h.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// watchRecords: watch records a crash in each venv (the history database,
// as the app does), taking the venv from the report, and runs nothing.
func (h *hostileHome) watchRecords() {
	t := h.t
	p := startForkwatch(t, h.env, "watch", "--json", "--reports-dir", h.reports, "--cores-dir", "", "--quiet-after", "1s")
	p.ready()
	for i, image := range []string{h.evilImage, h.ownImage} {
		stage := filepath.Join(h.dir, "stage")
		os.WriteFile(stage, hostileReport(t, 62001+i, image), 0o644)
		os.Rename(stage, filepath.Join(h.reports, fmt.Sprintf("Python_%d.crash", i)))
		ev := p.event(wait)
		want := []string{h.evilVenv, h.ownVenv}[i]
		if ev["kind"] != "crash" || ev["venv"] != want {
			t.Fatalf("the watcher did not take the venv from the report (the premise): %v", ev)
		}
	}
	time.Sleep(1500 * time.Millisecond) // the history commits within a second
	p.stop()
	h.ran("watch")
}

// doctorAndTraceRefuse: doctor and trace status say why they did not run
// the other user's venv or the PATH python, and run the user's own.
func (h *hostileHome) doctorAndTraceRefuse() {
	t := h.t
	out, errOut, code := h.cli("doctor", "--json")
	if code != 0 {
		t.Fatalf("doctor exit %d: %s", code, errOut)
	}
	h.ran("doctor")
	if !strings.Contains(out, "owned by uid 65534 ("+filepath.Join(h.dir, "evil")+")") {
		t.Errorf("doctor does not say why the venv was not run:\n%s", out)
	}
	if !strings.Contains(out, "writable by others ("+h.wbin+")") {
		t.Errorf("doctor does not say why the PATH python was not run:\n%s", out)
	}
	if b, err := os.ReadFile(h.ownMarker); err != nil || !strings.Contains(string(b), "ran ") {
		t.Errorf("control: doctor did not run the user's own venv (so the test could not see a run): %v", err)
	}
	os.Remove(h.ownMarker)

	h.cli("trace", "status")
	h.ran("trace status")
	out2, _, _ := h.cli("trace", "status", h.evilVenv)
	h.ran("trace status VENV")
	if !strings.Contains(out2, "not run") || !strings.Contains(out2, "owned by uid 65534") {
		t.Errorf("trace status %s:\n%s", h.evilVenv, out2)
	}
}

// appStartUpRefuses: the app's controller gets the recent crashes from the
// history and reads the fork tracer's state of their venvs: the user's own
// is run, the other user's is neither run nor offered.
func (h *hostileHome) appStartUpRefuses() {
	t := h.t
	r, err := history.OpenReader(appinfo.HistoryDBPath(), time.Local)
	if err != nil {
		t.Fatal(err)
	}
	crashes, err := r.Crashes(context.Background(), time.Now().AddDate(0, 0, -1), 100)
	r.Close()
	if err != nil || len(crashes) != 2 {
		t.Fatalf("history: %d crashes, %v", len(crashes), err)
	}
	var recent []report.Report
	for _, c := range crashes {
		recent = append(recent, c.Report)
	}
	senv := settings.Env{Home: h.home, GOOS: "darwin", UID: 501, SupportDir: appinfo.SupportDir(), PromptTimeout: 5 * time.Second}
	tracer := service.TraceManager()
	c := tray.NewController(tray.ControllerConfig{Env: senv, Desktop: &fakeDesk{}, Notifier: &fakeNotifier{}, SupportDir: appinfo.SupportDir(),
		Recent: recent, Tracer: tracer})
	ui := &fakeUI{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, ui); close(done) }()
	// The start-up trace refresh asks the tracer about both venvs; the
	// user's own one is run (its marker appears) once it has happened.
	eventually(t, "start-up trace refresh", func() bool { _, err := os.Stat(h.ownMarker); return err == nil })
	cancel()
	<-done
	h.ran("the app's start-up")
	for _, v := range tray.TraceViews(context.Background(), tracer, h.evilVenv) {
		if v.Target == h.evilVenv {
			t.Errorf("Fork Tracing offers another user's venv: %+v", v)
		}
	}
	h.ran("Fork Tracing submenu")
}

// TestHostileTraceEnable: a symbolic link planted under the tracer's
// module name (pointing at another file of the user's), and a
// group-writable site-packages: `trace enable` refuses and the target
// file is byte for byte as it was.
func TestHostileTraceEnable(t *testing.T) {
	e := newTraceEnv(t)
	dir := t.TempDir()
	precious := filepath.Join(dir, "precious.py")
	want := []byte("# the user's own code\n")
	os.WriteFile(precious, want, 0o644)
	for _, tc := range []struct {
		name  string
		setup func(site string)
		say   string
	}{
		{"planted link", func(site string) { os.Symlink(precious, filepath.Join(site, forktrace.ModuleName)) }, "symbolic link"},
		{"group-writable site-packages", func(site string) { os.Chmod(site, 0o775) }, "writable by group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			venv := filepath.Join(t.TempDir(), "venv")
			site := filepath.Join(venv, "lib", "python3.12", "site-packages")
			os.MkdirAll(site, 0o755)
			os.MkdirAll(filepath.Join(venv, "bin"), 0o755)
			answer := fmt.Sprintf(`{"version":[3,12,1],"executable":"%s/bin/python3","prefix":%q,"base_prefix":"/opt/py","purelib":%q,"stdlib":"/opt/py/lib/python3.12","fork_hook":true,"loaded":false}`, venv, venv, site)
			os.WriteFile(filepath.Join(venv, "bin", "python3"), []byte("#!/bin/sh\ncat <<'EOF'\n"+answer+"\nEOF\n"), 0o755)
			tc.setup(site)
			_, errOut, code := e.run("trace", "enable", venv)
			if code != 1 || !strings.Contains(errOut, tc.say) {
				t.Errorf("trace enable: exit %d, %s; want a refusal saying %q", code, errOut, tc.say)
			}
			if got, _ := os.ReadFile(precious); !bytes.Equal(got, want) {
				t.Errorf("the link's target changed: %q", got)
			}
			ents, _ := os.ReadDir(site)
			for _, en := range ents {
				if en.Name() != forktrace.ModuleName {
					t.Errorf("left in site-packages: %s", en.Name())
				}
			}
		})
	}
}

// TestHostileSpoolRecord: escape sequences, bidi controls and newlines in
// a fork-tracer record (written by any of the user's Python processes)
// reach `trace show` as inert text.
func TestHostileSpoolRecord(t *testing.T) {
	e := newTraceEnv(t)
	const pid = 4242
	evil := "\x1b[2J\x1b]0;pwned\x07\u202eexe.txt\nFAKE LINE\r\u009b31m"
	rec := forktrace.Record{PID: pid, PPID: 4241, Time: float64(time.Now().Unix()), Python: "3.12" + evil, Threads: 2,
		Thread: "T" + evil, Argv0: "gunicorn" + evil, Cwd: "/srv" + evil,
		Stack: []report.ForkFrame{{File: "/srv/app" + evil + ".py", Line: 7, Function: "spawn" + evil}}}
	b, _ := json.Marshal(&rec)
	if err := forktrace.CreateRing(e.spool()); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(forktrace.RingPath(e.spool()), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(append(b, '\n'), int64(pid%forktrace.Slots)*forktrace.SlotSize)
	f.Close()
	out, errOut, code := e.run("trace", "show", strconv.Itoa(pid))
	if code != 0 {
		t.Fatalf("trace show: %d %s", code, errOut)
	}
	if strings.ContainsAny(out, "\x1b\x07\r\u009b\u202e") || strings.Contains(out, "\nFAKE LINE") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
	if !strings.Contains(out, "spawn") || !strings.Contains(out, "gunicorn") {
		t.Errorf("the record's text is gone: %q", out)
	}
}
