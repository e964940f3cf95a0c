package attribute

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// interpreterScripts are a sleeping script per runtime, in its language.
var interpreterScripts = map[string]string{
	"ruby": "sleep 120\n",
	"php":  "<?php sleep(120);\n",
	"perl": "sleep 120;\n",
}

// TestRuntimeFromLiveParent: a headerless excerpt (weechat-objc-fork-...,
// the report alone says nothing of the program) whose live parent is a real
// Ruby, PHP or Perl interpreter from the distribution running a script named
// like a tool's entry point, in a project marked by Gemfile, composer.json or
// cpanfile. The runtime comes from the parent's executable, and the project
// from its folder; a crash that is no fork death takes nothing from the
// parent.
func TestRuntimeFromLiveParent(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	cases := []struct {
		interp, entry, marker, want string
	}{
		{"ruby", "bin/puma", "Gemfile", report.RuntimeRuby},
		{"php", "vendor/bin/php-fpm-worker", "composer.json", report.RuntimePHP},
		{"perl", "local/bin/cpm", "cpanfile", report.RuntimePerl},
	}
	for _, tc := range cases {
		t.Run(tc.interp, func(t *testing.T) {
			exe, err := exec.LookPath(tc.interp)
			if err != nil {
				t.Skipf("needs %s (Debian package %s)", tc.interp, tc.interp)
			}
			proj := filepath.Join(t.TempDir(), "app")
			script := filepath.Join(proj, tc.entry)
			os.MkdirAll(filepath.Dir(script), 0o755)
			if err := os.WriteFile(script, []byte(interpreterScripts[tc.interp]), 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(proj, tc.marker), []byte("\n"), 0o644)
			cmd := exec.Command(exe, script, "serve")
			cmd.Dir = proj
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitForArgv(t, cmd.Process.Pid, "serve")
			live, err := newProcReader()(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			if report.RuntimeOfName(live.Exe) != tc.want {
				t.Fatalf("live parent's executable %q does not name %s", live.Exe, tc.want)
			}
			for _, file := range []string{"weechat-objc-fork-no-header-wee-slack-511.crash", "yetanothermac-segv.crash"} {
				data := retarget(t, file, cmd.Process.Pid+100000, cmd.Process.Pid, live.Comm, time.Now())
				r, _ := report.Parse(data)
				if r == nil {
					t.Fatal("no report")
				}
				before := r.Runtime
				NewAttributor().Enrich(r)
				if !strings.Contains(r.ParentCommand, script+" serve") || r.Project != proj {
					t.Errorf("%s: parent command %q project %q", file, r.ParentCommand, r.Project)
				}
				switch {
				case r.ForkChild && r.Runtime != tc.want:
					t.Errorf("%s: runtime %q (report alone: %q), want %q; evidence %q", file, r.Runtime, before, tc.want, r.Evidence)
				case !r.ForkChild && r.Runtime != before:
					t.Errorf("%s: a crash that is no fork death took runtime %q from its parent", file, r.Runtime)
				}
				if r.ForkChild && strings.Contains(r.Advice, "multiprocessing") {
					t.Errorf("%s: Python advice for a %s child: %s", file, tc.want, r.Advice)
				}
			}
		})
	}
}

func TestParseProcExe(t *testing.T) {
	buf := []byte{2, 0, 0, 0}
	buf = append(buf, "/opt/homebrew/opt/ruby/bin/ruby\x00\x00\x00ruby\x00/Users/a/shop/bin/puma\x00"...)
	if got := parseProcExe(buf); got != "/opt/homebrew/opt/ruby/bin/ruby" {
		t.Errorf("parseProcExe = %q", got)
	}
	for _, bad := range [][]byte{nil, {1, 0}, {5, 0, 0, 0, 'x'}} {
		_ = parseProcExe(bad)
	}
}
