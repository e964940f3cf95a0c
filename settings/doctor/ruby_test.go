package doctor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRuby writes an interpreter that answers RubyInventory's question like
// a real one, and records that it ran.
func (m *fakeMac) fakeRuby(t *testing.T, p, version string) {
	t.Helper()
	m.write(t, p, "#!/bin/sh\necho \"ran $0 $*\" >> \"$FAKE_STATE/log\"\nprintf 'FW1\\t%s\\n' '"+version+"'\n", 0o755)
}

func findRuby(rep Report, path string) *Interpreter {
	for i := range rep.Rubies {
		in := &rep.Rubies[i]
		if in.Path == path || in.RealPath == path {
			return in
		}
		for _, a := range in.Aliases {
			if a == path {
				return in
			}
		}
	}
	return nil
}

// TestRubyInventory: doctor lists the Rubies of rbenv, rvm, asdf, Homebrew
// (both prefixes) and the system, plus the real one from the
// distribution's package where installed, each once, with its version,
// origin, signature facts and the same core-dump verdicts as a Python; a
// shim folder and rubocop are not interpreters; the text says tracing and
// the probe are Python's.
func TestRubyInventory(t *testing.T) {
	m := newFakeMac(t)
	m.setState(t, "sysctl.kern.coredump", "1\n")
	m.setState(t, "sysctl.kern.corefile", "/cores/core.%P\n")
	os.MkdirAll(filepath.Join(m.root, "cores"), 0o1777)
	h, r := m.home, m.root
	want := map[string]struct{ version, origin string }{
		filepath.Join(h, ".rbenv/versions/3.3.0/bin/ruby"):     {"3.3.0", OriginRbenv},
		filepath.Join(h, ".rbenv/versions/2.7.8/bin/ruby"):     {"2.7.8", OriginRbenv},
		filepath.Join(h, ".rvm/rubies/ruby-3.2.2/bin/ruby"):    {"3.2.2", OriginRVM},
		filepath.Join(h, ".asdf/installs/ruby/3.1.4/bin/ruby"): {"3.1.4", OriginAsdf},
		filepath.Join(r, "opt/homebrew/opt/ruby/bin/ruby"):     {"3.4.1", OriginHomebrew},
		filepath.Join(r, "usr/local/opt/ruby/bin/ruby"):        {"3.3.6", OriginHomebrew},
		filepath.Join(r, "usr/bin/ruby"):                       {"2.6.10", OriginSystem},
	}
	for p, w := range want {
		m.fakeRuby(t, p, w.version)
	}
	// get-task-allow on the rbenv build only (a self-built Ruby is ad hoc
	// signed; the fake codesign reads the sidecar).
	m.write(t, filepath.Join(h, ".rbenv/versions/3.3.0/bin/ruby.sig"), "gta\n", 0o644)
	m.write(t, filepath.Join(r, "usr/bin/ruby.sig"), "runtime\n", 0o644)
	// Not interpreters, or not to be run.
	m.fakeRuby(t, filepath.Join(h, ".rbenv/shims/ruby"), "shim")
	m.fakeRuby(t, filepath.Join(h, "bin/rubocop"), "no")
	link := filepath.Join(h, "bin/ruby")
	os.Symlink(filepath.Join(h, ".rbenv/versions/3.3.0/bin/ruby"), link)

	o := m.options("darwin")
	o.PATH = filepath.Join(h, ".rbenv/shims") + ":" + filepath.Join(h, "bin")
	real := ""
	if p, err := exec.LookPath("ruby"); err == nil && !strings.HasPrefix(p, m.dir) {
		out, err := exec.Command(p, "-e", "print RUBY_VERSION").Output()
		if err == nil {
			real = p
			o.PATH += ":" + filepath.Dir(p)
			want[p] = struct{ version, origin string }{string(out), ""}
		}
	}
	m.setState(t, "clt", "/Library/Developer/CommandLineTools\n")
	rep := runDoctor(t, o)
	if len(rep.Rubies) != len(want) {
		for _, in := range rep.Rubies {
			t.Logf("%s (%s) %s", in.Path, in.Origin, in.Version)
		}
		t.Fatalf("found %d Rubies, want %d", len(rep.Rubies), len(want))
	}
	for p, w := range want {
		in := findRuby(rep, p)
		if in == nil {
			t.Errorf("%s not found", p)
			continue
		}
		if in.Version != w.version || in.Error != "" || (w.origin != "" && in.Origin != w.origin) {
			t.Errorf("%s: version %q origin %q error %q, want %q %q", p, in.Version, in.Origin, in.Error, w.version, w.origin)
		}
		if in.CoreFromShell.Verdict == "" || in.CoreFromLaunchd.Verdict == "" {
			t.Errorf("%s: no core verdicts", p)
		}
	}
	if in := findRuby(rep, link); in == nil || len(in.Aliases) != 1 {
		t.Errorf("the symlink is not folded into rbenv's 3.3.0: %+v", in)
	}
	rb := findRuby(rep, filepath.Join(h, ".rbenv/versions/3.3.0/bin/ruby"))
	sys := findRuby(rep, filepath.Join(r, "usr/bin/ruby"))
	if rb.GetTaskAllow != Yes || sys.GetTaskAllow != No || sys.HardenedRuntime != Yes {
		t.Errorf("signature facts: rbenv gta %q; system gta %q hardened %q", rb.GetTaskAllow, sys.GetTaskAllow, sys.HardenedRuntime)
	}
	if sys.CoreFromShell.Verdict != No || sys.CoreFromLaunchd.Verdict != No {
		t.Errorf("system Ruby core verdict: %+v", sys.CoreFromShell)
	}
	if strings.Contains(m.log(), "shims/ruby") || strings.Contains(m.log(), "rubocop") {
		t.Errorf("ran a shim or rubocop:\n%s", m.log())
	}
	var b strings.Builder
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Ruby interpreters: ") || !strings.Contains(b.String(), "for Python only") || !strings.Contains(b.String(), ".rvm/rubies/ruby-3.2.2/bin/ruby") {
		t.Errorf("text:\n%s", b.String())
	}
	if real != "" {
		t.Logf("real Ruby %s: %+v", real, *findRuby(rep, real))
	}
}
