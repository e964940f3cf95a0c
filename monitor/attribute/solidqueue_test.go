package attribute

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// solidQueueReport is the real Solid Queue crash (rails/solid_queue#357,
// macOS 15.0, a worker killed by the Objective-C check) retargeted at a
// child of a live parent.
const solidQueueReport = "ruby33-solid-queue-objc-fork-solid-queue-357.crash"

// TestAttributeSolidQueueLive: Solid Queue's supervisor under a real ruby,
// in each way it is started. The parent is a real ruby process that forks
// real children (as Solid Queue's fork supervisor and its Puma plugin do);
// the report is the real solid_queue#357 report retargeted at one of them.
//   - bin/jobs renaming itself as Solid Queue's procline does
//     ("solid-queue-supervisor(VERSION): ...", lib/solid_queue/processes/procline.rb);
//   - plain `ruby bin/jobs` (fork mode by default);
//   - `bin/jobs --mode async`: nothing forks, no tool named;
//   - Puma with `plugin :solid_queue` in config/puma.rb and no cluster
//     workers: the project's configuration names Solid Queue over Puma,
//     with the Gemfile.lock's version caveat;
//   - Puma with the plugin and `workers 2`: both fork; Puma stands.
func TestAttributeSolidQueueLive(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	rubyPath := interpreter(t, "ruby")
	const forkAndWait = `
pids = 2.times.map { fork { sleep 120 } }
File.write(ENV.fetch("PIDFILE"), pids.join(" "))
sleep 120
`
	cases := []struct {
		name     string
		title    string // $0 the parent sets, "" to keep its command line
		args     []string
		files    map[string]string // project files besides the Gemfile
		tool     string
		evidence string
		fix      string
		label    string
	}{
		{"supervisor procline", "solid-queue-supervisor(1.5.0): supervising", nil, nil,
			"solid_queue", report.EvidenceParent, "bin/jobs --mode async", "solid_queue supervisor (proj)"},
		{"bin/jobs", "", nil, map[string]string{"config/queue.yml": "default: &default\n  workers:\n    - queues: \"*\"\n      processes: 2\ndevelopment:\n  <<: *default\n"},
			"solid_queue", report.EvidenceParent, "SOLID_QUEUE_SUPERVISOR_MODE=async", "bin/jobs (proj)"},
		// No tool; the report is from macOS 15.0, so only the OS note.
		{"bin/jobs --mode async", "", []string{"--mode", "async"}, nil,
			"", "", "ruby/ruby#11849", "bin/jobs --mode async (proj)"},
		{"puma with the Solid Queue plugin", "puma 6.4.0 (tcp://0.0.0.0:3000) [proj]", nil,
			map[string]string{"config/puma.rb": "threads 3, 3\nport ENV.fetch(\"PORT\", 3000)\nplugin :tmp_restart\nplugin :solid_queue\n", "Gemfile.lock": "GEM\n  remote: https://rubygems.org/\n  specs:\n    puma (6.4.0)\n    solid_queue (1.2.1)\n"},
			"solid_queue", report.EvidenceProject, "has no async mode", "puma (proj)"},
		{"puma cluster and the plugin", "puma 6.4.0 (tcp://0.0.0.0:3000) [proj]", nil,
			map[string]string{"config/puma.rb": "workers 2\nplugin :solid_queue\n"},
			"puma", report.EvidenceParent, "workers 0", "puma (proj)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			proj := filepath.Join(root, "proj")
			if err := os.MkdirAll(proj, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(proj, "Gemfile"), []byte("source \"https://rubygems.org\"\ngem \"solid_queue\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			for rel, body := range tc.files {
				p := filepath.Join(proj, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pidFile := filepath.Join(root, "children")
			body := forkAndWait
			if tc.title != "" {
				body = fmt.Sprintf("$0 = %q\n", tc.title) + body
			}
			script := filepath.Join(proj, "bin", "jobs")
			if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(rubyPath, append([]string{"bin/jobs"}, tc.args...)...)
			cmd.Dir = proj
			cmd.Env = append(os.Environ(), "PIDFILE="+pidFile)
			children := startForkingParent(t, cmd, pidFile, 10*time.Second, "the ruby parent")
			want := tc.title
			if want == "" {
				want = "jobs"
				if len(tc.args) > 0 {
					want = tc.args[len(tc.args)-1]
				}
			}
			if tc.title != "" {
				waitForArgv(t, cmd.Process.Pid, want)
			}
			live, err := newProcReader()(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			child, err := newProcReader()(children[0])
			if err != nil || child.PPID != cmd.Process.Pid {
				t.Fatalf("child %d: ppid %v, err %v: not a fork of the parent", children[0], child, err)
			}
			data := retarget(t, solidQueueReport, children[0], cmd.Process.Pid, live.Comm, time.Now())
			r, _ := report.Parse(data)
			if r == nil || r.Runtime != report.RuntimeRuby || r.Cause != report.CauseForkSafety {
				t.Fatalf("the retargeted report: %+v", r)
			}
			NewAttributor().Enrich(r)
			if r.Framework != tc.tool || r.FrameworkEvidence != tc.evidence {
				t.Fatalf("tool %q by %q, want %q by %q (command %q, evidence %q)", r.Framework, r.FrameworkEvidence, tc.tool, tc.evidence, r.ParentCommand, r.Evidence)
			}
			if tc.fix == "" && r.Fix != "" || !strings.Contains(r.Fix, tc.fix) {
				t.Errorf("fix %q, want one saying %q", r.Fix, tc.fix)
			}
			if r.Project != proj {
				t.Errorf("project %q, want %q", r.Project, proj)
			}
			if got := report.GroupLabel(r); got != tc.label {
				t.Errorf("label %q, want %q", got, tc.label)
			}
			if tc.evidence == report.EvidenceProject && !containsLine(r.Evidence, "puma.rb:4") {
				t.Errorf("the evidence does not name the file and line: %q", r.Evidence)
			}
		})
	}
}

func containsLine(ev []string, s string) bool {
	for _, e := range ev {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}
