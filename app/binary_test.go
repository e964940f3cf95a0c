package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this package run the real forkwatch binary, built once, in
// the background from TestMain on, so that the tests that do not need it
// run meanwhile; those that do wait for it (forkwatchBin).
var (
	binDone = make(chan struct{})
	binPath string
	binErr  error
	binHead string // the commit checked out when the build started ("" outside git)
)

// buildEnv is the environment the go command gets in tests: the one the
// test binary started with, and the build and module caches it found then.
// A test that sets HOME (most do, to a temporary home) would otherwise send
// `go build` to an empty cache under that home, and it would rebuild every
// package (minutes on 2 cores) instead of linking.
var (
	buildEnv     []string
	buildDir     string // this package's folder: a test may t.Chdir while a build runs
	goTool       = "go"
	userCacheDir = os.TempDir() // the user's cache folder, for builds kept between runs
)

// initBuildEnv fills buildEnv; TestMain calls it before any test runs.
func initBuildEnv() error {
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	d, err := os.Getwd()
	if err != nil {
		return err
	}
	buildDir = d
	out, err := exec.Command(goTool, "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		return fmt.Errorf("go env: %w", err)
	}
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(v) != 3 {
		return fmt.Errorf("go env: %q", out)
	}
	buildEnv = append(os.Environ(), "GOCACHE="+v[0], "GOMODCACHE="+v[1], "GOPATH="+v[2])
	if d, err := os.UserCacheDir(); err == nil {
		userCacheDir = d
	}
	return nil
}

// goCommand is the go command with the caches TestMain found.
func goCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(goTool, args...)
	cmd.Env, cmd.Dir = buildEnv, buildDir
	return cmd
}

// buildForkwatch builds the binary into dir (with the race detector when
// the tests run with it) and closes binDone. Cancelling ctx stops it.
func buildForkwatch(ctx context.Context, dir string) {
	defer close(binDone)
	binPath = filepath.Join(dir, "forkwatch")
	git := exec.Command("git", "rev-parse", "HEAD")
	git.Dir = buildDir
	if head, err := git.Output(); err == nil {
		binHead = strings.TrimSpace(string(head))
	}
	// No -ldflags stamp, and -buildvcs=auto said explicitly (the go
	// command's default, but a GOFLAGS=-buildvcs=false in the environment,
	// as some CI images set, would hide what TestVersionOfPlainBuild checks).
	cmd := exec.CommandContext(ctx, goTool, "build", "-race="+raceFlag(), "-buildvcs=auto", "-o", binPath, ".")
	cmd.Env, cmd.Dir = buildEnv, buildDir
	if out, err := cmd.CombinedOutput(); err != nil {
		binErr = fmt.Errorf("go build: %v\n%s", err, out)
	}
}

// forkwatchBin is the binary's path, once built.
func forkwatchBin(t testing.TB) string {
	t.Helper()
	<-binDone
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// raceFlag builds the binary with the race detector when the tests run with it.
func raceFlag() string {
	if raceEnabled {
		return "true"
	}
	return "false"
}

// proc is a running forkwatch with its output split into lines.
type proc struct {
	t     testing.TB
	cmd   *exec.Cmd
	lines chan string
	errs  *strings.Builder
	mu    sync.Mutex
	done  chan struct{}
	// waiting are the "waiting" notes event skipped.
	waiting []map[string]any
}

// startForkwatch runs the binary with a temporary HOME and a PATH that has
// no real sysctl (tests never touch the real system).
func startForkwatch(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(forkwatchBin(t), args...)
	// FORKWATCH_DEBUG: the watcher logs when its watches are in place and
	// its first sweep is done, which ready waits for.
	cmd.Env = append(append(testEnv(t), env...), "FORKWATCH_DEBUG=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 100000), errs: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.errs.Write(b)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop() })
	return p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// testEnv is a minimal environment: a temporary HOME, and PATH holding only
// a fake-bin folder and the system folders without sysctl/launchctl.
func testEnv(t testing.TB) []string {
	home := t.TempDir()
	fake := filepath.Join(home, "fakebin")
	os.MkdirAll(fake, 0o755)
	return []string{"HOME=" + home, "PATH=" + fake + ":/usr/bin:/bin", "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "LANG=C"}
}

// ready waits until `watch` has its watches in place and has swept the
// folders once (it logs "history sweep done" at debug level), so that a
// file put in a watched folder from now on is a new crash, not one found
// at start-up. It fails after a generous bound.
func (p *proc) ready() {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	for !strings.Contains(p.stderr(), "history sweep done") {
		if time.Now().After(deadline) {
			p.t.Fatalf("watch not ready within %v; stderr:\n%s", wait, p.stderr())
		}
		select {
		case <-p.done:
			p.t.Fatalf("watch exited before it was ready; stderr:\n%s", p.stderr())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitLog waits until the watcher's debug log (FORKWATCH_DEBUG, set by
// startForkwatch) holds s at least n times, within wait.
func (p *proc) waitLog(s string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	for strings.Count(p.stderr(), s) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q (x%d) in the log within %v; stderr:\n%s", s, n, wait, p.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs.String()
}

// next returns the next output line, failing after timeout.
func (p *proc) next(timeout time.Duration) (string, bool) {
	select {
	case l, ok := <-p.lines:
		return l, ok
	case <-time.After(timeout):
		return "", false
	}
}

// event waits for the next JSON line that is not a "waiting" note (the
// watcher says once that it waits for a report to finish; those are kept
// in p.waiting for the tests that look at them).
func (p *proc) event(timeout time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l, ok := p.next(time.Until(deadline))
		if !ok {
			p.t.Fatalf("no event within %v; stderr:\n%s", timeout, p.stderr())
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			p.t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		if m["kind"] == "waiting" {
			p.mu.Lock()
			p.waiting = append(p.waiting, m)
			p.mu.Unlock()
			continue
		}
		return m
	}
}

// quiet checks that no line but a "waiting" note arrives for d.
func (p *proc) quiet(d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		l, ok := p.next(time.Until(deadline))
		if !ok {
			return
		}
		if strings.Contains(l, `"kind":"waiting"`) {
			continue
		}
		p.t.Fatalf("unexpected output: %s", l)
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop() int {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	return p.cmd.ProcessState.ExitCode()
}

// copyFile copies src to dst through a temporary name and a rename, as a
// finished report appears.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(dst), ".tmp-"+filepath.Base(dst))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

func sample(name string) string {
	return filepath.Join("..", "monitor", "report", "testdata", "reports", name)
}

var _ = io.Discard

func mkfifo(p string) error { return syscall.Mkfifo(p, 0o644) }

// runBinStdout runs the binary and returns its standard output only.
func runBinStdout(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(forkwatchBin(t), args...)
	cmd.Env = env
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}
