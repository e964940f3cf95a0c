//go:build darwin

package trust_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust"
)

// TestACLOnMac runs on a Mac (the macOS CI job): a folder whose mode is
// 0700 but whose ACL lets everyone add files (`chmod +a`, chmod(1)) is
// refused, and so is a program below it; a deny entry like the one every
// home folder carries is not a reason to refuse.
func TestACLOnMac(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "python3")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	chmod := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("/bin/chmod", args...).CombinedOutput(); err != nil {
			t.Fatalf("chmod %v: %v\n%s", args, err, out)
		}
	}
	chmod("+a", "group:everyone deny delete", dir)
	if err := trust.CheckExecutable(prog, os.Getuid()); err != nil {
		t.Fatalf("a deny entry refused: %v", err)
	}
	chmod("+a", "group:everyone allow add_file,add_subdirectory", dir)
	err := trust.CheckExecutable(prog, os.Getuid())
	if err == nil || !strings.Contains(err.Error(), "ACL") || !strings.Contains(err.Error(), "everyone") {
		t.Fatalf("a folder everyone may add to through its ACL: %v", err)
	}
	if err := trust.CheckFolder(dir, os.Getuid()); err == nil {
		t.Fatal("CheckFolder accepted it")
	}
	chmod("-N", dir) // remove the ACL
	if err := trust.CheckExecutable(prog, os.Getuid()); err != nil {
		t.Fatalf("after chmod -N: %v", err)
	}
}
