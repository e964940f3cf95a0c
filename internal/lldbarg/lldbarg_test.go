package lldbarg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/safefs"
	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

func TestMain(m *testing.M) { trusttest.Main(m) }

// hostile are report and core names that would reach lldb's interpreter
// as more than a name: backticks (expression substitution, even inside
// single quotes), quotes and backslashes (splitting), $ ; # % { } and
// control, format and bidi characters.
var hostile = []string{
	"/Users/ana/Library/Logs/DiagnosticReports/Python-`platform shell touch /tmp/pwned`.ips",
	"/Users/ana/Library/Logs/DiagnosticReports/`expr (int)system(\"id\")`.ips",
	"/Users/ana/x'; platform shell id; '.ips",
	`/Users/ana/x".ips`,
	`/Users/ana/x\`,
	"/Users/ana/$(id).ips",
	"/Users/ana/a;b.ips",
	"/Users/ana/a#b.ips",
	"/Users/ana/a%b.ips",
	"/Users/ana/{a}.ips",
	"/Users/ana/a\nplatform shell id.ips",
	"/Users/ana/a\u202egpj.ips",
	"/Users/ana/a\u00a0b.ips",
	"/cores/core.`id`",
}

func TestSpecial(t *testing.T) {
	for _, p := range hostile {
		if Plain(p) {
			t.Errorf("%q passed as plain", p)
		}
		if _, err := CrashlogCommand(p); !errors.Is(err, ErrNotPlain) {
			t.Errorf("CrashlogCommand(%q): err = %v", p, err)
		}
		if _, err := CoreArgs("/cores/core.1", p); !errors.Is(err, ErrNotPlain) {
			t.Errorf("CoreArgs exe %q: err = %v", p, err)
		}
	}
	for _, p := range []string{
		"/Users/ana/Library/Logs/DiagnosticReports/Python-2024-05-01-101010.ips",
		"/Users/ana/Library/Application Support/Forkwatch/debug/report-0123456789ab.ips",
		"/Users/josé/Library/Logs/DiagnosticReports/Python_2024-05-01-101010_MacBook-Pro.crash",
		"/cores/core.12345",
		"/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12/Resources/Python.app/Contents/MacOS/Python",
	} {
		if !Plain(p) {
			t.Errorf("%q refused (%s)", p, Special(p))
		}
	}
	if Plain("relative/x.ips") || Plain("-o.ips") {
		t.Error("a relative path or an option passed")
	}
	cmd, err := CrashlogCommand("/Users/ana/Library/Logs/DiagnosticReports/Python.ips")
	if err != nil || cmd != "crashlog '/Users/ana/Library/Logs/DiagnosticReports/Python.ips'" {
		t.Errorf("control: %q %v", cmd, err)
	}
}

// TestHostileNameReachesLLDBOnlyAsAlias: the attack — a report
// whose name holds backticks. The quoting used before (shlex single
// quotes) leaves the backticks in lldb's command, where they are expanded;
// through Alias and CrashlogCommand the command lldb gets holds none of
// the name, only the link's plain name, and the link leads to the report
// that was checked. The control: a plain name is passed as it is.
func TestHostileNameReachesLLDBOnlyAsAlias(t *testing.T) {
	base := t.TempDir()
	reports := filepath.Join(base, "DiagnosticReports")
	os.Mkdir(reports, 0o700)
	d, err := safefs.MkdirAndOpen(filepath.Join(base, "support", "debug"), 0o700, os.Geteuid())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"Python-`platform shell touch pwned`.ips", "x'; platform shell id; '.ips", "a\nb.ips"} {
		real := filepath.Join(reports, name)
		if err := os.WriteFile(real, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := "crashlog '" + strings.ReplaceAll(real, "'", `'"'"'`) + "'" // shlexQuote, as before
		if !strings.ContainsAny(before, "`'\n") {
			t.Fatalf("the old quoting hid the name: %q", before)
		}
		alias, err := Alias(d, "report", real)
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := CrashlogCommand(alias)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(cmd, "`\n\"\\$;") || strings.Count(cmd, "'") != 2 || strings.Contains(cmd, "platform") {
			t.Errorf("lldb would get %q", cmd)
		}
		if got, err := os.Readlink(alias); err != nil || got != real {
			t.Errorf("alias %s -> %q %v", alias, got, err)
		}
		// Again: the link is replaced, not refused.
		if again, err := Alias(d, "report", real); err != nil || again != alias {
			t.Errorf("second alias: %q %v", again, err)
		}
	}
	// A regular file where the link goes is not ours to replace.
	os.WriteFile(filepath.Join(d.Path(), AliasName("report", "/x/y.ips")), nil, 0o600)
	if _, err := Alias(d, "report", "/x/y.ips"); !errors.Is(err, safefs.ErrUnsafe) {
		t.Errorf("replaced a regular file: %v", err)
	}
}

// TestCoreExecutable: as root, the executable a crash report names, in a
// folder uid 65534 owns or one anybody can write, is left out with a note
// naming why; one in the user's own folder is passed (the control).
func TestCoreExecutable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a folder away")
	}
	base := t.TempDir()
	mk := func(name string, mode os.FileMode, owner int) string {
		dir := filepath.Join(base, name)
		os.Mkdir(dir, 0o755)
		exe := filepath.Join(dir, "Python")
		os.WriteFile(exe, []byte("\x7fELF"), 0o755)
		os.Chmod(dir, mode)
		if owner >= 0 {
			os.Chown(dir, owner, owner)
			os.Chown(exe, owner, owner)
		}
		return exe
	}
	for _, c := range []struct {
		exe, want string
	}{
		{mk("theirs", 0o755, 65534), "owned by uid 65534"},
		{mk("shared", 0o777, -1), "writable by others"},
	} {
		p, note := CoreExecutable(c.exe, "the crash report /x.ips", 0)
		if p != "" || !strings.Contains(note, c.want) || !strings.Contains(note, "left out") {
			t.Errorf("%s: %q %q", c.exe, p, note)
		}
	}
	own := mk("own", 0o755, -1)
	if p, note := CoreExecutable(own, "--exe", 0); p != own || note != "" {
		t.Errorf("control: %q %q", p, note)
	}
}
