package tray

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestMain gives the tests a temporary folder that internal/trust accepts
// (on Linux /tmp is world-writable, so no fake python below it would run).
func TestMain(m *testing.M) { trusttest.Main(m) }

// sample is a real crash report of the corpus.
func sample(name string) string {
	return filepath.Join("..", "..", "monitor", "report", "testdata", "reports", name)
}

// testEnv is a minimal environment: a temporary HOME, and PATH holding only
// a fake-bin folder and the system folders without sysctl/launchctl.
func testEnv(t testing.TB) []string {
	home := t.TempDir()
	fake := filepath.Join(home, "fakebin")
	os.MkdirAll(fake, 0o755)
	return []string{"HOME=" + home, "PATH=" + fake + ":/usr/bin:/bin", "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "LANG=C"}
}

// fakeCommands writes fake sysctl/launchctl/osascript into the test PATH
// (the fakes of the settings package tests, settings/testdata/fakes).
func fakeCommands(t *testing.T, env []string) []string {
	t.Helper()
	home := envValue(env, "HOME")
	bin := filepath.Join(home, "fakebin")
	state := filepath.Join(home, ".fakestate")
	root := filepath.Join(home, ".fakeroot")
	os.MkdirAll(state, 0o755)
	os.MkdirAll(filepath.Join(root, "Library", "LaunchDaemons"), 0o755)
	for _, name := range []string{"sysctl", "launchctl", "osascript"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "settings", "testdata", "fakes", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(bin, name), data, 0o755)
	}
	os.WriteFile(filepath.Join(state, "sysctl.kern.coredump"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(state, "sysctl.kern.corefile"), []byte("/cores/core.%P\n"), 0o644)
	return append(env, "FAKE_STATE="+state, "FAKE_BIN="+bin, "FAKE_ROOT="+root,
		"FORKWATCH_LAUNCHDAEMONS_DIR="+filepath.Join(root, "Library", "LaunchDaemons"))
}

func envValue(env []string, k string) string {
	for _, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			return kv[len(k)+1:]
		}
	}
	return ""
}

// recorder writes a fake command that logs each argument on its own line
// (NUL-separated calls) and exits with $FAKE_EXIT.
func recorder(t *testing.T, bin, name string) string {
	log := filepath.Join(bin, name+".log")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> " + log + "; done\nprintf '%s\\n' '--end--' >> " + log + "\n" +
		"[ -n \"$FAKE_STDERR\" ] && echo \"$FAKE_STDERR\" >&2\nexit ${FAKE_EXIT:-0}\n"
	os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755)
	return log
}

// rtCrash is a crash of a runtime at a time, a death after fork() unless
// cause says otherwise.
func rtCrash(at string, pid int, process, rt, cause string) report.Report {
	return report.Report{Process: process, PID: pid, Time: at, Cause: cause, Runtime: rt, Python: rt == report.RuntimePython,
		ForkChild: cause != report.CauseCrash, ObjCForkSafety: cause == report.CauseForkSafety, ParentProcess: process, ParentPID: pid - 1,
		Advice: "exec after fork()", Path: "/r/x.ips"}
}
