package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/app/service"
)

// TestTraceEnableRefusesOtherRuntimes: `trace enable` on a Ruby, PHP or Perl
// interpreter (the real ones from the distribution where installed, and a
// link named like rbenv's) or a Ruby project without a venv says fork
// tracing is Python-only, runs nothing and installs nothing.
func TestTraceEnableRefusesOtherRuntimes(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	// A fake ruby that records being run: the refusal comes first.
	ran := filepath.Join(home, "ran")
	rbenv := filepath.Join(home, ".rbenv", "versions", "3.3.0", "bin", "ruby")
	os.MkdirAll(filepath.Dir(rbenv), 0o755)
	os.WriteFile(rbenv, []byte("#!/bin/sh\ntouch "+ran+"\n"), 0o755)
	proj := filepath.Join(home, "src", "shop")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "Gemfile"), []byte("source 'https://rubygems.org'\n"), 0o644)
	targets := map[string]string{rbenv: "is Ruby", proj: "a Ruby project (Gemfile)"}
	for _, name := range []string{"ruby", "php", "perl"} {
		if p, err := exec.LookPath(name); err == nil {
			targets[p] = "fork tracing is for Python only"
		}
	}
	for target, want := range targets {
		var out, errb strings.Builder
		code := runTraceSet(t.Context(), service.TraceManager(), "enable", target, &out, &errb)
		if code != 1 || !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "Python only") {
			t.Errorf("trace enable %s: exit %d, %q", target, code, errb.String())
		}
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("trace enable ran the Ruby interpreter")
	}
	if err := traceOnlyPython(filepath.Join(home, "nothing-here")); err != nil {
		t.Errorf("a missing path is left to the tracer's own error: %v", err)
	}
}
