// Package redact decides what of a crash leaves the Mac when Forkwatch
// exports it: the vocabulary of the Redact setting and the functions that
// apply it. Both the settings reader (settings/managed) and the exporter
// (monitor/export) need it, so it lives here, below both.
//
// The setting is a comma-separated list of words:
//
//	none      send everything as recorded (alone; not with other words)
//	home      home-folder paths as ~ (/Users/ana/src/shop -> ~/src/shop)
//	args      command lines reduced to the program (arguments dropped)
//	project   project and venv folders replaced by a hash (sha256, 12 hex digits)
//	all       home, args and project
//
// Unset, the default is "home,args": a parent's command line carries
// whatever its user typed (`--db-url=postgres://app:PASSWORD@db/app`), so
// arguments leave the Mac only when the profile asks for them. Words are
// case-insensitive; spaces around them are ignored.
//
// In every setting but none, values that look like secrets are masked
// wherever they appear (command lines, paths, details): the userinfo of a
// URL (scheme://user:password@host), the value of an option or variable
// whose name says password, passwd, pwd, secret, token, key, auth,
// credential, cookie or session (`--password=x`, `TOKEN=x`, `api_key=x`,
// `--password x`), and a bearer token. The mask is "***". This is a net
// for the obvious, not a guarantee: "args" is what keeps arguments home.
package redact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Default is the setting when none is given: home paths as ~ and
// command-line arguments dropped.
const Default = "home,args"

// Words are the accepted words, in the order they are documented.
var Words = []string{"none", "home", "args", "project", "all"}

// Redaction says what is removed before an event leaves the Mac.
type Redaction struct {
	Home    bool // home-folder paths as ~
	Args    bool // command-line arguments dropped
	Project bool // project and venv folders hashed
	// Secrets masks values that look like secrets. Parse sets it for
	// every setting but none.
	Secrets bool
}

// Parse reads the Redact setting. "" gives Default.
func Parse(s string) (Redaction, error) {
	if strings.TrimSpace(s) == "" {
		s = Default
	}
	var r Redaction
	none := false
	n := 0
	for _, w := range strings.Split(s, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		n++
		switch w {
		case "none":
			none = true
		case "home":
			r.Home = true
		case "args":
			r.Args = true
		case "project":
			r.Project = true
		case "all":
			r.Home, r.Args, r.Project = true, true, true
		default:
			return Redaction{}, fmt.Errorf("unknown word %q (known: %s)", w, strings.Join(Words, ", "))
		}
	}
	if none && n > 1 {
		return Redaction{}, fmt.Errorf("%q: none cannot be combined with other words", s)
	}
	r.Secrets = !none
	return r, nil
}

// String is the setting's canonical form.
func (r Redaction) String() string {
	var w []string
	if r.Home {
		w = append(w, "home")
	}
	if r.Args {
		w = append(w, "args")
	}
	if r.Project {
		w = append(w, "project")
	}
	if len(w) == 0 {
		return "none"
	}
	return strings.Join(w, ",")
}

// Path applies the home rule to a path, or to text holding paths (a command
// line): every occurrence of home followed by a separator or the end
// becomes ~. home is the user's home folder; "" changes nothing.
func (r Redaction) Path(s, home string) string {
	if r.Secrets {
		s = MaskSecrets(s)
	}
	if !r.Home || s == "" {
		return s
	}
	home = strings.TrimRight(home, "/")
	if home == "" {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, home)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(home)
		if end == len(s) || s[end] == '/' {
			b.WriteString(s[:i])
			b.WriteString("~")
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
}

// CommandLine applies the args rule (keep the first word, the program) and
// then the home rule (and the secrets rule, through Path).
func (r Redaction) CommandLine(s, home string) string {
	if r.Args {
		s = strings.TrimSpace(s)
		if i := strings.IndexAny(s, " \t"); i >= 0 {
			s = s[:i]
		}
	}
	return r.Path(s, home)
}

// Mask replaces a secret.
const Mask = "***"

var (
	// scheme://userinfo@ : RFC 3986 section 3.2.1; the userinfo has no
	// "/", "?", "#", "@" or space.
	reURLUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]+@`)
	secretName    = `[A-Za-z0-9_.-]*(?i:password|passwd|pwd|secret|token|key|auth|credential|cookie|session)[A-Za-z0-9_.-]*`
	// NAME=value, --name=value, name: value (a header).
	reSecretAssign = regexp.MustCompile(`(?:^|[\s"'&?;,])(-{0,2}` + secretName + `)(=|:\s*)([^\s"'&;,]+)`)
	// --password value (the value as the next word).
	reSecretFlag = regexp.MustCompile(`(--?` + secretName + `)(\s+)([^\s-][^\s]*)`)
	reBearer     = regexp.MustCompile(`(?i)((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+`)
)

// MaskSecrets masks what looks like a secret in s: the userinfo of URLs,
// values of options and variables named like a secret, bearer tokens.
func MaskSecrets(s string) string {
	if s == "" {
		return s
	}
	s = reURLUserinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	s = reSecretAssign.ReplaceAllStringFunc(s, func(m string) string {
		// Keep the leading separator, the name and "="; mask the value.
		sm := reSecretAssign.FindStringSubmatchIndex(m)
		if v := strings.ToLower(m[sm[6]:sm[7]]); v == "bearer" || v == "basic" {
			return m // the scheme of a header; its token is masked below
		}
		return m[:sm[6]] + Mask + m[sm[7]:]
	})
	s = reSecretFlag.ReplaceAllString(s, "${1}${2}"+Mask)
	s = reBearer.ReplaceAllString(s, "${1}"+Mask)
	return s
}

// StripUserinfo removes the userinfo (user and password) of every URL in
// s, for text that is shown rather than exported: "https://u:p@host/x"
// becomes "https://host/x".
func StripUserinfo(s string) string {
	return reURLUserinfo.ReplaceAllString(s, "${1}")
}

// Folder applies the project rule (a folder becomes "sha256:" and 12 hex
// digits of its full path, so the same project groups together without
// being named) and then the home rule.
func (r Redaction) Folder(s, home string) string {
	if s == "" {
		return s
	}
	if r.Project {
		sum := sha256.Sum256([]byte(filepath.Clean(s)))
		return "sha256:" + hex.EncodeToString(sum[:6])
	}
	return r.Path(s, home)
}
