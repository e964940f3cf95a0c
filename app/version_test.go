package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionOfPlainBuild: a binary built with a bare `go build` in this
// checkout (no -ldflags stamp) prints the commit it was built from, not
// "dev".
func TestVersionOfPlainBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	// -buildvcs=auto is the go command's default; said explicitly because a
	// GOFLAGS=-buildvcs=false in the environment (some CI images set it)
	// would otherwise hide the very thing tested.
	bin := filepath.Join(t.TempDir(), "forkwatch")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	want := regexp.MustCompile(`^forkwatch ` + string(head[:12]) + `(-dirty)?$`)
	if !want.MatchString(got) {
		t.Errorf("--version printed %q, want forkwatch %s[-dirty]", got, head[:12])
	}
}
