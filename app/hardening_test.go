package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWatchHostileInput runs the real watcher against bad input around good
// reports: a 100 MB file and a 17 MB one named like reports, a report whose
// process name holds newlines, quotes, AppleScript and shell metacharacters
// and 10 KB of text, files deleted right after they appear. The process keeps
// running, memory stays bounded, every good report is reported exactly once
// and every bad one gives one clear error.
func TestWatchHostileInput(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	p := startForkwatch(t, nil, s.args()...)
	p.ready()

	big := filepath.Join(s.dir, "big")
	f, _ := os.Create(big)
	f.Truncate(100 << 20)
	f.Close()
	os.Rename(big, filepath.Join(s.reports, "huge.ips"))
	f, _ = os.Create(big)
	f.Truncate(17 << 20)
	f.Close()
	os.Rename(big, filepath.Join(s.reports, "just-over.crash"))

	evil := "Python\n\"; do shell script \"rm -rf ~\" --\x1b[31m $(touch /tmp/pwned) `id` " + strings.Repeat("A", 10000)
	report := fmt.Sprintf("Process:               %s [4242]\nPath:                  /usr/bin/python3\nParent Process:        launchd [1]\nException Type:        EXC_CRASH (SIGABRT)\nTermination Reason:    Namespace OBJC, Code 0x1\n\nApplication Specific Information:\ncrashed on child side of fork pre-exec\n\nBinary Images:\n       0x1 - 0x2 +python3 <0> /usr/bin/python3\n", strings.ReplaceAll(evil, "\n", " "))
	os.WriteFile(filepath.Join(s.dir, "evil"), []byte(report), 0o644)
	os.Rename(filepath.Join(s.dir, "evil"), filepath.Join(s.reports, "evil.crash"))

	// Files that vanish between the event and the read.
	for i := 0; i < 50; i++ {
		q := filepath.Join(s.reports, fmt.Sprintf("gone-%d.ips", i))
		os.WriteFile(q, []byte("{"), 0o644)
		os.Remove(q)
	}
	for i := 0; i < 3; i++ {
		copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(s.reports, fmt.Sprintf("good-%d.ips", i)))
	}

	got := map[string][]map[string]any{}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && len(got) < 4 {
		ev := p.event(wait)
		got[filepath.Base(ev["path"].(string))] = append(got[filepath.Base(ev["path"].(string))], ev)
	}
	p.quiet(1500 * time.Millisecond) // nothing more: no second event, no error for vanished files
	for name, want := range map[string]string{"huge.ips": "too large", "just-over.crash": "too large", "evil.crash": "", "good-0.ips": ""} {
		evs := got[name]
		if len(evs) != 1 {
			t.Errorf("%s: %d events, want 1", name, len(evs))
			continue
		}
		if want != "" && (evs[0]["kind"] != "error" || !strings.Contains(evs[0]["error"].(string), want)) {
			t.Errorf("%s: %v", name, evs[0])
		}
	}
	if len(got["good-0.ips"])+len(got["good-1.ips"])+len(got["good-2.ips"]) != 1 {
		// The three good files hold the same crash: one event in all.
		t.Errorf("same crash reported %d times", len(got["good-0.ips"])+len(got["good-1.ips"])+len(got["good-2.ips"]))
	}
	if evs := got["evil.crash"]; len(evs) == 1 {
		proc := evs[0]["process"].(string)
		if strings.ContainsAny(proc, "\n\x1b") || len([]rune(proc)) > 129 || evs[0]["objc_fork_safety"] != true {
			t.Errorf("hostile name not made inert: %q", proc)
		}
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Error("a shell ran text from a report")
	}
	hwm := procStatus(t, p.cmd.Process.Pid, "VmHWM")
	if hwm > 120<<10 {
		t.Errorf("peak RSS %d kB after a 100 MB file", hwm)
	}
	t.Logf("peak RSS %.1f MB", float64(hwm)/1024)
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestWatchStateUnwritable: a state file that cannot be written gives a
// clear error event; watching goes on.
func TestWatchStateUnwritable(t *testing.T) {
	t.Parallel()
	s := newWatchSetup(t)
	os.MkdirAll(s.reports, 0o755)
	blocker := filepath.Join(s.dir, "not-a-folder")
	os.WriteFile(blocker, []byte("x"), 0o644)
	s.state = filepath.Join(blocker, "state.json")
	p := startForkwatch(t, nil, s.args()...)
	p.ready()
	copyFile(t, sample("python313-duckdb-segv-chunkhound.ips"), filepath.Join(s.reports, "a.ips"))
	if ev := p.event(wait); ev["kind"] != "crash" {
		t.Fatalf("got %v", ev)
	}
	ev := p.event(wait)
	if ev["kind"] != "error" || !strings.Contains(ev["error"].(string), "save state") {
		t.Fatalf("got %v", ev)
	}
	copyFile(t, sample("monerod-sigbus-fork-child-monero-gui-4380.ips"), filepath.Join(s.reports, "b.ips"))
	if ev := p.event(wait); ev["kind"] != "crash" {
		t.Fatalf("after the failed save: %v", ev)
	}
}

// TestConcurrentSetCommands: two `forkwatch set` processes at once leave one
// block, and off restores the file.
func TestConcurrentSetCommands(t *testing.T) {
	t.Parallel()
	env := fakeCommands(t, testEnv(t))
	home := envValue(env, "HOME")
	zshrc := filepath.Join(home, ".zshrc")
	os.WriteFile(zshrc, []byte("export A=1\n"), 0o644)
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(forkwatchBin(t), "set", "ulimit-core", "on")
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("set: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	b, _ := os.ReadFile(zshrc)
	if strings.Count(string(b), "# >>> forkwatch") != 1 {
		t.Fatalf("blocks: %q", b)
	}
	if out, code := runBin(t, env, "set", "ulimit-core", "off"); code != 0 {
		t.Fatal(out)
	}
	if b, _ := os.ReadFile(zshrc); string(b) != "export A=1\n" {
		t.Fatalf("not restored: %q", b)
	}
}
