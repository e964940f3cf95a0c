package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Twenty interpreters in every kind of place, each taking 0.3 s to answer:
// asked one after another that is 6 s; the inventory must finish in < 3 s.
func TestInventoryTwentyInterpretersFast(t *testing.T) {
	m := newFakeMac(t)
	m.setState(t, "sysctl.kern.coredump", "1\n")
	m.setState(t, "sysctl.kern.corefile", "/cores/core.%P\n")
	os.MkdirAll(filepath.Join(m.root, "cores"), 0o1777)
	h, r := m.home, m.root
	const d = 300 * time.Millisecond
	want := map[string]string{ // path -> origin
		filepath.Join(h, "bin", "python3"):                                                       OriginOther,
		filepath.Join(r, "opt/homebrew/bin/python3.12"):                                          OriginHomebrew,
		filepath.Join(r, "opt/homebrew/bin/python3.13"):                                          OriginHomebrew,
		filepath.Join(r, "usr/local/bin/python3.11"):                                             OriginOther,
		filepath.Join(r, "Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12"):     OriginPythonOrg,
		filepath.Join(r, "Library/Frameworks/Python.framework/Versions/3.13/bin/python3.13"):     OriginPythonOrg,
		filepath.Join(r, "Library/Developer/CommandLineTools/usr/bin/python3"):                   OriginCLT,
		filepath.Join(h, ".pyenv/versions/3.10.14/bin/python3.10"):                               OriginPyenv,
		filepath.Join(h, ".pyenv/versions/3.11.9/bin/python3.11"):                                OriginPyenv,
		filepath.Join(h, ".pyenv/versions/3.12.4/bin/python3.12"):                                OriginPyenv,
		filepath.Join(h, ".local/share/uv/python/cpython-3.12.8-macos-aarch64-none/bin/python3"): OriginUV,
		filepath.Join(h, ".local/share/uv/python/cpython-3.13.1-macos-aarch64-none/bin/python3"): OriginUV,
		filepath.Join(h, "miniconda3/bin/python3"):                                               OriginConda,
		filepath.Join(h, "miniconda3/envs/ml/bin/python3"):                                       OriginConda,
		filepath.Join(h, "miniforge3/bin/python3"):                                               OriginConda,
		filepath.Join(h, "miniforge3/envs/web/bin/python3"):                                      OriginConda,
		filepath.Join(h, "anaconda3/bin/python3"):                                                OriginConda,
		filepath.Join(h, "mambaforge/envs/x/bin/python3"):                                        OriginConda,
		filepath.Join(h, "proj/.venv/bin/python3"):                                               OriginVenv,
		filepath.Join(h, "other/bin/python3.9"):                                                  OriginOther,
	}
	for p := range want {
		m.fakePython(t, p, "3.12.1", "spawn", d)
		if strings.Contains(p, "conda3") || strings.Contains(p, "forge") {
			os.MkdirAll(filepath.Join(filepath.Dir(filepath.Dir(p)), "conda-meta"), 0o755)
		}
	}
	m.write(t, filepath.Join(h, "proj/.venv/pyvenv.cfg"), "home = /x\n", 0o644)
	// Hardened python.org build without get-task-allow; a pyenv build
	// with it; the rest ad-hoc.
	m.write(t, filepath.Join(r, "Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12.sig"), "runtime\n", 0o644)
	m.write(t, filepath.Join(h, ".pyenv/versions/3.11.9/bin/python3.11.sig"), "gta\n", 0o644)
	// A symlink to one of them: the same interpreter, listed once.
	link := filepath.Join(r, "opt/homebrew/bin/python3")
	os.Symlink(filepath.Join(r, "opt/homebrew/bin/python3.12"), link)
	// Not interpreters.
	m.write(t, filepath.Join(h, "bin", "python3-config"), "#!/bin/sh\nexit 1\n", 0o755)
	m.write(t, filepath.Join(h, "bin", "python3.12"), "not executable", 0o644)

	o := m.options("darwin")
	o.PATH = filepath.Join(h, "bin") + ":relative/dir::" + filepath.Join(h, "other/bin")
	o.ExtraPythons = []string{filepath.Join(h, "proj/.venv")} // as found in crash history
	m.setState(t, "clt", "/Library/Developer/CommandLineTools\n")
	os.MkdirAll(filepath.Join(r, "Library/Developer/CommandLineTools"), 0o755)

	start := time.Now()
	rep := runDoctor(t, o)
	took := time.Since(start)
	t.Logf("20 interpreters (0.3 s each) in %v", took)
	if took >= 3*time.Second {
		t.Errorf("doctor took %v with 20 interpreters, want < 3 s", took)
	}
	if len(rep.Interpreters) != 20 {
		for _, in := range rep.Interpreters {
			t.Logf("%s (%s)", in.Path, in.Origin)
		}
		t.Fatalf("found %d interpreters, want 20", len(rep.Interpreters))
	}
	for p, origin := range want {
		in := find(rep, p)
		if in == nil {
			t.Errorf("%s not found", p)
			continue
		}
		if in.Origin != origin {
			t.Errorf("%s: origin %q, want %q", p, in.Origin, origin)
		}
		if in.Version != "3.12.1" || in.StartMethod != "spawn" || in.Error != "" {
			t.Errorf("%s: version %q start %q error %q", p, in.Version, in.StartMethod, in.Error)
		}
	}
	if in := find(rep, link); in == nil || in != find(rep, filepath.Join(r, "opt/homebrew/bin/python3.12")) || len(in.Aliases) != 1 {
		t.Errorf("symlink %s: not folded into its target: %+v", link, in)
	}
	org := find(rep, filepath.Join(r, "Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12"))
	if org.HardenedRuntime != Yes || org.GetTaskAllow != No {
		t.Errorf("python.org: hardened %q get-task-allow %q", org.HardenedRuntime, org.GetTaskAllow)
	}
	if org.CoreFromShell.Verdict != No || !strings.Contains(org.CoreFromShell.Reason, "core limit 0") {
		t.Errorf("python.org from shell: %+v (launchd's limit 0 is inherited)", org.CoreFromShell)
	}
	pyenv := find(rep, filepath.Join(h, ".pyenv/versions/3.11.9/bin/python3.11"))
	if pyenv.GetTaskAllow != Yes || pyenv.HardenedRuntime != No {
		t.Errorf("pyenv: hardened %q get-task-allow %q", pyenv.HardenedRuntime, pyenv.GetTaskAllow)
	}
	if find(rep, filepath.Join(h, "bin", "python3-config")) != nil {
		t.Error("python3-config listed as an interpreter")
	}
}

// The /usr/bin/python3 of a Mac without the Command Line Tools is a stub
// that opens an install dialog: never run it. With the tools it is run.
func TestCLTStubNeverRunWithoutCommandLineTools(t *testing.T) {
	m := newFakeMac(t)
	record := filepath.Join(m.dir, "stub-was-run")
	stub := filepath.Join(m.root, "usr", "bin", "python3")
	m.write(t, stub, "#!/bin/sh\ntouch '"+record+"'\nprintf 'FW1\\t3.9.6\\tspawn\\t%s\\n' \"$0\"\n", 0o755)
	o := m.options("darwin")
	o.PATH = filepath.Join(m.root, "usr", "bin") // also reached through PATH

	rep := runDoctor(t, o)
	if _, err := os.Stat(record); err == nil {
		t.Fatal("the /usr/bin/python3 stub was executed without the Command Line Tools")
	}
	in := find(rep, stub)
	if in == nil || in.Origin != OriginCLTStub || !strings.Contains(in.Skipped, "xcode-select -p fails") {
		t.Fatalf("stub entry: %+v", in)
	}
	if !strings.Contains(m.log(), "xcode-select -p") {
		t.Error("xcode-select was not asked")
	}
	if in.CoreFromShell.Verdict != Unknown {
		t.Errorf("a stub has no core verdict: %+v", in.CoreFromShell)
	}

	// Installed: now it is a real shim and may be run.
	m.setState(t, "clt", "/Library/Developer/CommandLineTools\n")
	os.MkdirAll(filepath.Join(m.root, "Library/Developer/CommandLineTools"), 0o755)
	rep = runDoctor(t, o)
	if _, err := os.Stat(record); err != nil {
		t.Fatal("with the Command Line Tools installed, /usr/bin/python3 should be asked")
	}
	if in := find(rep, stub); in == nil || in.Version != "3.9.6" || in.Skipped != "" {
		t.Fatalf("with CLT: %+v", in)
	}
}

// On Linux there is no codesign: the signature facts are "not applicable",
// and /usr/bin is just a folder on PATH.
func TestInventoryLinuxNoCodesign(t *testing.T) {
	m := newFakeMac(t, "sysctl", "ps")
	p := filepath.Join(m.root, "usr", "bin", "python3")
	m.fakePython(t, p, "3.11.2", "fork", 0)
	o := m.options("linux")
	o.PATH = filepath.Dir(p)
	rep := runDoctor(t, o)
	in := find(rep, p)
	if in == nil || in.Version != "3.11.2" || in.StartMethod != "fork" {
		t.Fatalf("entry: %+v", in)
	}
	if in.HardenedRuntime != NotApplicable || in.GetTaskAllow != NotApplicable {
		t.Errorf("codesign facts on Linux: %q %q", in.HardenedRuntime, in.GetTaskAllow)
	}
	if in.Origin != OriginSystem {
		t.Errorf("origin %q", in.Origin)
	}
	if rep.ForkSafety.LaunchdNow.Verdict != Unknown || !strings.Contains(rep.ForkSafety.LaunchdNow.Reason, "no launchd") {
		t.Errorf("fork safety on Linux: %+v", rep.ForkSafety.LaunchdNow)
	}
}

// An interpreter that hangs costs its time limit, not the run.
func TestAskTimeLimit(t *testing.T) {
	m := newFakeMac(t, "sysctl")
	hang := filepath.Join(m.home, "bin", "python3")
	m.write(t, hang, "#!/bin/sh\nsleep 30\n", 0o755)
	o := m.options("linux")
	o.PATH = filepath.Dir(hang)
	o.AskTimeout = 500 * time.Millisecond
	start := time.Now()
	rep := runDoctor(t, o)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	in := find(rep, hang)
	if in == nil || !strings.Contains(in.Error, "timed out") {
		t.Fatalf("entry: %+v", in)
	}
}

func TestParseCodesign(t *testing.T) {
	cases := []struct {
		name, stdout, stderr string
		hard, gta, signed    string
	}{
		{"unsigned", "", "/x: code object is not signed at all\n", No, No, "unsigned"},
		{"hardened developer id", "", "Executable=/x\nCodeDirectory v=20500 size=1 flags=0x10000(runtime) hashes=1+1 location=embedded\nAuthority=Developer ID Application: Python Software Foundation (DJ3H93M7VJ)\n",
			Yes, No, "Developer ID Application: Python Software Foundation (DJ3H93M7VJ)"},
		{"adhoc with get-task-allow", `<?xml version="1.0"?><plist version="1.0"><dict><key>com.apple.security.get-task-allow</key><true/></dict></plist>`,
			"CodeDirectory v=20400 size=1 flags=0x2(adhoc) hashes=1+1 location=embedded\nSignature=adhoc\n", No, Yes, "adhoc"},
		{"get-task-allow false", "<key>com.apple.security.get-task-allow</key>\n\t<false/>",
			"CodeDirectory v=20400 size=1 flags=0x10002(adhoc,runtime) hashes=1+1\n", Yes, No, "signed"},
		{"old text format", "[Dict]\n\t[Key] com.apple.security.get-task-allow\n\t[Value]\n\t\t[Bool] true\n",
			"CodeDirectory v=20400 size=1 flags=0x0(none) hashes=1+1\n", No, Yes, "signed"},
	}
	for _, c := range cases {
		h, g, s := parseCodesign(c.stdout, c.stderr, nil)
		if h != c.hard || g != c.gta || s != c.signed {
			t.Errorf("%s: got %q %q %q, want %q %q %q", c.name, h, g, s, c.hard, c.gta, c.signed)
		}
	}
}
