package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestVersionOfPlainBuild: a binary built with a bare `go build` in this
// checkout (no -ldflags stamp) prints the commit it was built from, not
// "dev". The binary the tests share is such a build (buildForkwatch).
func TestVersionOfPlainBuild(t *testing.T) {
	t.Parallel()
	bin := forkwatchBin(t)
	head := binHead // HEAD when the build started: a commit made meanwhile is not the binary's
	if head == "" {
		t.Skip("not a git checkout")
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
