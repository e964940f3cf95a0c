package settings

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Start-up files as they arrive from Windows or from editors that keep CRLF:
// with and without a final line ending.
var crlfFiles = []struct {
	name, content string
}{
	{"crlf", "# my settings\r\nexport EDITOR=vim\r\nalias ll='ls -l'\r\n"},
	{"crlf, no final newline", "# my settings\r\nexport EDITOR=vim\r\nalias ll='ls -l'"},
	{"lf, no final newline", "# my settings\nexport EDITOR=vim"},
	{"lf", "# my settings\nexport EDITOR=vim\n"},
}

// loginLimit runs the shell the way Terminal does (a login shell; zsh also
// interactive, as it reads ~/.zshrc only then) with HOME pointing at home,
// from a parent that raised the soft core limit to unlimited first: the
// answer is 0 only if our block ran, never because the system's default
// already was 0.
func loginLimit(t *testing.T, shell, home string) string {
	t.Helper()
	inner := shell + " -l -c 'ulimit -c'"
	if filepath.Base(shell) == "zsh" {
		inner = shell + " -l -i -c 'ulimit -c'"
	}
	cmd := exec.Command("bash", "-c", "ulimit -c unlimited || exit 97; exec "+inner)
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "TERM=dumb", "SHELL=" + shell}
	cmd.Dir = home
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 97 {
		t.Skip("cannot raise the core limit here (hard limit below unlimited)")
	}
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", inner, err, stderr.String())
	}
	// An error from our block (bash: "ulimit: 0\r: invalid number") would
	// show on stderr; zsh -i may print harmless job-control notes.
	if strings.Contains(stderr.String(), "ulimit") || strings.Contains(stderr.String(), "invalid") {
		t.Errorf("%s complained:\n%s", shell, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TestUlimitCRLFRealShells: with CRLF (and unterminated) ~/.zshrc and
// ~/.bash_profile, `set ulimit-core on` writes a block that real bash and
// zsh obey, status finds it, and off gives back the files byte for byte.
func TestUlimitCRLFRealShells(t *testing.T) {
	shells := map[string]string{}
	for _, sh := range []string{"bash", "zsh"} {
		p, err := exec.LookPath(sh)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed in CI (make deps installs zsh): %v", sh, err)
			}
			t.Logf("%s not installed: only the file checks for it", sh)
			continue
		}
		shells[sh] = p
	}
	ctx := context.Background()
	for _, tc := range crlfFiles {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			files := map[string]string{
				filepath.Join(home, ".zshrc"):        tc.content,
				filepath.Join(home, ".bash_profile"): tc.content,
			}
			for p, c := range files {
				if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			u := &Ulimit{Env: Env{Home: home, Shell: "/bin/zsh", GOOS: "linux"}}
			for sh, p := range shells {
				if got := loginLimit(t, p, home); got != "unlimited" {
					t.Fatalf("before: %s says the core limit is %q, want unlimited (the test would prove nothing)", sh, got)
				}
			}

			if err := u.Set(ctx, true); err != nil {
				t.Fatalf("on: %v", err)
			}
			if st := u.State(ctx); !st.On || st.Error != "" {
				t.Errorf("status after on: %+v", st)
			}
			for p, c := range files {
				got, _ := os.ReadFile(p)
				if !bytes.HasPrefix(got, []byte(c)) {
					t.Errorf("%s: the user's text changed:\n%q", p, got)
				}
				if block := got[len(c):]; bytes.Contains(block, []byte("\r")) {
					t.Errorf("%s: our block has CR characters: %q", p, block)
				}
			}
			for sh, p := range shells {
				if got := loginLimit(t, p, home); got != "0" {
					t.Errorf("after on: %s says the core limit is %q, want 0", sh, got)
				}
			}

			if err := u.Set(ctx, false); err != nil {
				t.Fatalf("off: %v", err)
			}
			for p, c := range files {
				if got, _ := os.ReadFile(p); string(got) != c {
					t.Errorf("%s after off:\n%q\nwant\n%q", p, got, c)
				}
			}
			if st := u.State(ctx); st.On {
				t.Errorf("status after off: %+v", st)
			}
			for sh, p := range shells {
				if got := loginLimit(t, p, home); got != "unlimited" {
					t.Errorf("after off: %s says the core limit is %q, want unlimited", sh, got)
				}
			}
		})
	}
}

// TestUlimitRepairsOldCRLFBlock: a block written with CRLF lines by an
// older version is not reported as working, and turning the toggle on
// rewrites it with LF lines; off still restores the user's text.
func TestUlimitRepairsOldCRLFBlock(t *testing.T) {
	home := t.TempDir()
	user := "export A=1\r\nexport B=2"
	old := user + "\r\n" + BeginMarker + " +crlf\r\n" + strings.ReplaceAll(ulimitBody, "\n", "\r\n") + "\r\n" + EndMarker + "\r\n"
	for _, n := range []string{".zshrc", ".bash_profile"} {
		os.WriteFile(filepath.Join(home, n), []byte(old), 0o644)
	}
	u := &Ulimit{Env: Env{Home: home, Shell: "/bin/bash", GOOS: "linux"}}
	ctx := context.Background()
	st := u.State(ctx)
	if st.On || !strings.Contains(st.Detail, "CRLF") {
		t.Errorf("status of a CRLF block: %+v", st)
	}
	if err := u.Set(ctx, true); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(home, ".bash_profile"))
	want := user + "\r\n" + BeginMarker + " +crlf\n" + ulimitBody + "\n" + EndMarker + "\n"
	if string(got) != want {
		t.Errorf("repaired:\n%q\nwant\n%q", got, want)
	}
	if st := u.State(ctx); !st.On {
		t.Errorf("status after repair: %+v", st)
	}
	if err := u.Set(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(home, ".zshrc")); string(got) != user {
		t.Errorf("off: %q, want %q", got, user)
	}
}
