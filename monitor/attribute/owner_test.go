package attribute

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// nobody is the uid tests give to "another user".
const nobody = 65534

// TestAttributeOtherUsersParent: a live parent that is exactly the process
// the report names (name, start time) but runs as another user, or whose
// user is not the report's user, gives no attribution: no command line,
// folder, venv, project, tool, fix or group, and the evidence says why.
func TestAttributeOtherUsersParent(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("reads the process table of Linux or macOS")
	}
	py := realPython(t)
	mine := startParent(t, py, t.TempDir(), "shop/.venv/bin/gunicorn", "/", "app:app")

	cases := []struct {
		name       string
		ppid       func(t *testing.T) int
		parentName string
		reportUser int
		reason     string
	}{
		{"parent of another user", func(t *testing.T) int {
			if os.Getuid() != 0 {
				t.Skip("needs root to start a process as another user")
			}
			// A real process of uid 65534 (sleep: the test's python may
			// live where that user cannot read it).
			sleep, err := exec.LookPath("sleep")
			if err != nil {
				t.Skip("no sleep")
			}
			cmd := exec.Command(sleep, "120")
			cmd.Dir = "/"
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitForArgv(t, cmd.Process.Pid, "120")
			return cmd.Process.Pid
		}, "sleep", os.Getuid(), "parent belongs to another user (uid 65534"},
		{"our parent, another user's report", func(t *testing.T) int { return mine.Process.Pid }, "Python", 4242, `the report's user is "4242"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ppid := tc.ppid(t)
			data := retargetUser(t, "python310-translated-ansible-tasmota-33.crash", 99998, ppid, tc.parentName, time.Now(), tc.reportUser)
			r, _ := report.Parse(data)
			if r == nil {
				t.Fatal("no report")
			}
			NewAttributor().Enrich(r)
			if r.ParentCommand != "" || r.ParentCwd != "" || r.Group != "" || r.Project != "" || r.Venv != "" {
				t.Errorf("attributed another user's parent: cmd %q cwd %q group %q project %q venv %q",
					r.ParentCommand, r.ParentCwd, r.Group, r.Project, r.Venv)
			}
			if !containsEvidence(r.Evidence, tc.reason) {
				t.Errorf("evidence %q does not say %q", r.Evidence, tc.reason)
			}
		})
	}
	// The control: the same report with our own user attributes our parent.
	data := retargetUser(t, "python310-translated-ansible-tasmota-33.crash", 99998, mine.Process.Pid, "Python", time.Now(), os.Getuid())
	r, _ := report.Parse(data)
	NewAttributor().Enrich(r)
	if !strings.Contains(r.ParentCommand, "app:app") {
		t.Errorf("own parent not attributed: %q %q", r.ParentCommand, r.Evidence)
	}
}

func TestOwnParent(t *testing.T) {
	for _, tc := range []struct {
		uid        int
		reportUser string
		want       string
	}{
		{501, "", ""},
		{501, "501", ""},
		{501, "502", `the report's user is "502"`},
		{65534, "", "uid 65534, Forkwatch runs as uid 501"},
		{-1, "", "could not be read"},
	} {
		got := ownParent(&liveProc{UID: tc.uid}, 501, tc.reportUser)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("ownParent(uid %d, report %q) = %q, want %q", tc.uid, tc.reportUser, got, tc.want)
		}
	}
}
