// Package lldbarg decides what of a file name may reach lldb's command
// line, for `forkwatch debug` (app/debugcmd.go). It is pure apart from the
// ownership check and the link it makes, so it is tested here, below the
// app.
//
// A crash report reaches lldb inside a command string: lldb -o "crashlog
// PATH" (crashlog is a Python command of lldb.macosx.crashlog; llvm-project
// lldb/examples/python/crashlog.py splits its argument with shlex). Before
// any command runs, lldb's command interpreter replaces text between
// backticks with the value of an expression — even inside single quotes
// (the security review saw `crashlog '/x/`expr`.ips'` open a different
// file than the one checked, and reach the expression evaluator; lldb's
// own test suite relies on backticks staying active inside aliases:
// lldb/test/API/commands/command/backticks/TestBackticksInAlias.py). Quotes
// and backslashes change how the string is split, and a name starting
// with "-" reads as an option. A core file and its executable are passed
// as --core and --file; the lldb driver may turn them into a `target
// create` command string too, so the same rule is applied to them.
//
// The rule is an allow-list, not a list of what to escape: a path may
// reach lldb only if it is absolute and every character is a letter or a
// digit (any script), a space, or one of / . _ - + , @ : =. Anything else —
// a backtick, a quote, a backslash, $, ;, #, %, {, }, a control or format
// character — and the caller gives lldb a link with a plain name in
// Forkwatch's own folder instead (Alias), or refuses.
package lldbarg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/forkwatch/forkwatch/internal/safefs"
	"github.com/forkwatch/forkwatch/internal/trust"
)

// ErrNotPlain means a path holds a character lldb may treat specially.
var ErrNotPlain = errors.New("a character lldb treats specially")

// Plain reports whether p may be given to lldb as it is.
func Plain(p string) bool { return Special(p) == "" && filepath.IsAbs(p) }

// Special returns the first character of p that is not allowed, quoted
// for a message ("`", "'", "U+000A"), or "" when there is none.
func Special(p string) string {
	for _, r := range p {
		switch {
		case r == ' ' || strings.ContainsRune("/._-+,@:=", r):
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			// é, ü, ç in a user's name; not a format or bidi character.
		case r < 0x20 || r == 0x7f || !unicode.IsPrint(r):
			return fmt.Sprintf("U+%04X", r)
		default:
			return string(r)
		}
	}
	return ""
}

// Check returns nil when p is Plain, else an error naming the character.
func Check(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%q: not an absolute path", p)
	}
	if c := Special(p); c != "" {
		return fmt.Errorf("%q: %w (%s)", p, ErrNotPlain, c)
	}
	return nil
}

// quote is Python's shlex.quote for a plain path: single quotes, which
// crashlog's shlex.split removes. A plain path holds no quote to escape.
func quote(p string) string { return "'" + p + "'" }

// CrashlogCommand is the lldb command that loads the report at p:
// "crashlog '/Users/ana/Library/Logs/DiagnosticReports/x.ips'". p must be
// Plain (use Alias first for one that is not).
func CrashlogCommand(p string) (string, error) {
	if err := Check(p); err != nil {
		return "", err
	}
	return "crashlog " + quote(p), nil
}

// CoreArgs is lldb's argv after "lldb" for a core file and, when exe is
// not "", its executable: --core CORE [--file EXE]. Both must be Plain.
func CoreArgs(core, exe string) ([]string, error) {
	if err := Check(core); err != nil {
		return nil, err
	}
	args := []string{"--core", core}
	if exe != "" {
		if err := Check(exe); err != nil {
			return nil, err
		}
		args = append(args, "--file", exe)
	}
	return args, nil
}

// AliasName is the plain name of the link for target: a prefix ("report",
// "core", "exe"), 12 hex digits of the SHA-256 of the path, and the
// target's extension when that is plain and short (".ips", ".crash").
func AliasName(prefix, target string) string {
	sum := sha256.Sum256([]byte(target))
	ext := filepath.Ext(target)
	if len(ext) > 16 || Special(ext) != "" || strings.ContainsAny(ext, " ") {
		ext = ""
	}
	return prefix + "-" + hex.EncodeToString(sum[:6]) + ext
}

// Alias makes (or remakes) a link named AliasName(prefix, target) to
// target in dir, the user's private debug folder opened with safefs (not a
// link, the user's, 0700), and returns the link's path, which is Plain when
// dir's path is. An existing entry of that name is replaced only if it is
// a link.
func Alias(dir *safefs.Dir, prefix, target string) (string, error) {
	name := AliasName(prefix, target)
	p := filepath.Join(dir.Path(), name)
	if err := Check(p); err != nil {
		return "", fmt.Errorf("the debug folder's own path: %w", err)
	}
	r := dir.Root()
	if fi, err := r.Lstat(name); err == nil {
		if fi.Mode()&os.ModeSymlink == 0 {
			return "", fmt.Errorf("%s: %w: not a link of ours", p, safefs.ErrUnsafe)
		}
		if err := r.Remove(name); err != nil {
			return "", fmt.Errorf("replace %s: %w", p, err)
		}
	}
	if err := r.Symlink(target, name); err != nil {
		return "", fmt.Errorf("link %s: %w", p, err)
	}
	return p, nil
}

// CoreExecutable decides whether the executable a crash report names for
// a core may be given to lldb (--file): it must pass the ownership check
// (trust.CheckExecutable: the file and every folder on the way owned by
// uid or root, writable by nobody else); a report is written by any local
// process, and lldb loads the file it is given (and may run its
// dSYM's Python scripts). It returns the path to pass, or "" and the note
// to show: "The executable /tmp/x/Python named by the crash report is left
// out (not run: writable by others (/tmp/x)): lldb reads the images from
// the core alone."
func CoreExecutable(exe, from string, uid int) (path, note string) {
	abs, err := filepath.Abs(exe)
	if err != nil {
		return "", fmt.Sprintf("The executable %s named by %s is left out (%v): lldb reads the images from the core alone.", exe, from, err)
	}
	if err := trust.CheckExecutable(abs, uid); err != nil {
		return "", fmt.Sprintf("The executable %s named by %s is left out (%v): lldb reads the images from the core alone.", abs, from, err)
	}
	return abs, ""
}
