package settings

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/internal/syscmd"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ulimitBody is what the block holds: POSIX ulimit, understood by zsh, bash,
// sh and fish alike.
const ulimitBody = `# Added by Forkwatch: processes started from this shell write no core files.
# Turn off in Forkwatch's menu or with: forkwatch set ulimit-core off
ulimit -c 0`

// reCoreLimit finds start-up lines that raise the core limit again.
var reCoreLimit = regexp.MustCompile(`\bulimit\s+(?:-[A-Za-z]*c[A-Za-z]*\s+)(unlimited|[1-9][0-9]*)\b|\blimit\s+coredumpsize\s+(unlimited|[1-9][0-9]*)`)

// Ulimit is the ulimit-core toggle: new shells start with `ulimit -c 0`.
type Ulimit struct{ Env Env }

func (u *Ulimit) Name() string  { return UlimitCore }
func (u *Ulimit) Label() string { return "Limit core files to 0 in new shells (ulimit -c 0)" }

// shellFile is a start-up file with the order the shell reads it in.
type shellFile struct {
	shell string
	path  string
	order int
}

// targets are the files that get the block, one per shell the user has:
//   - zsh: $ZDOTDIR/.zshrc (or ~/.zshrc), read by every interactive zsh, the
//     macOS default shell since 10.15; created if missing.
//   - bash: the first of ~/.bash_profile, ~/.bash_login, ~/.profile that
//     exists, since a login bash reads only that one (bash(1), INVOCATION);
//     ~/.bash_profile is created only when none exists and bash is the
//     login shell, so it never hides an existing ~/.profile.
//   - fish: ~/.config/fish/config.fish, when fish is set up.
func (u *Ulimit) targets() []string {
	zdot := u.Env.ZDOTDIR
	if zdot == "" {
		zdot = u.Env.Home
	}
	out := []string{filepath.Join(zdot, ".zshrc")}
	bash := ""
	for _, n := range []string{".bash_profile", ".bash_login", ".profile"} {
		p := filepath.Join(u.Env.Home, n)
		if _, err := os.Lstat(p); err == nil {
			bash = p
			break
		}
	}
	if bash == "" && strings.HasSuffix(u.Env.Shell, "bash") {
		bash = filepath.Join(u.Env.Home, ".bash_profile")
	}
	if bash != "" {
		out = append(out, bash)
	}
	if fi, err := os.Stat(filepath.Join(u.Env.Home, ".config", "fish")); err == nil && fi.IsDir() {
		out = append(out, filepath.Join(u.Env.Home, ".config", "fish", "config.fish"))
	}
	return out
}

// readOrder lists the start-up files of each shell in the order a login,
// interactive shell reads them (zsh(1) STARTUP/SHUTDOWN FILES; bash(1)
// INVOCATION), for finding settings that come after our block.
func (u *Ulimit) readOrder() []shellFile {
	zdot := u.Env.ZDOTDIR
	if zdot == "" {
		zdot = u.Env.Home
	}
	h := u.Env.Home
	return []shellFile{
		{"zsh", filepath.Join(zdot, ".zshenv"), 0},
		{"zsh", filepath.Join(zdot, ".zprofile"), 1},
		{"zsh", filepath.Join(zdot, ".zshrc"), 2},
		{"zsh", filepath.Join(zdot, ".zlogin"), 3},
		{"bash", filepath.Join(h, ".bash_profile"), 0},
		{"bash", filepath.Join(h, ".bash_login"), 0},
		{"bash", filepath.Join(h, ".profile"), 0},
		{"bash", filepath.Join(h, ".bashrc"), -1},
		{"fish", filepath.Join(h, ".config", "fish", "config.fish"), 0},
	}
}

func (u *Ulimit) State(ctx context.Context) State {
	var st State
	targets := u.targets()
	var have, missing, repair []string
	blockAt := map[string]int{} // file -> line of our block
	for _, p := range targets {
		data, err := readDotfile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			st.Error = err.Error()
			return st
		}
		body, ok := BlockBody(data)
		switch {
		case ok && strings.TrimSpace(body) == ulimitBody:
			have = append(have, u.short(p))
			blockAt[p] = blockLine(data)
		case ok && strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n")) == ulimitBody:
			// A block with CRLF lines does nothing in bash (`ulimit: 0\r:
			// invalid number`); turning the toggle on rewrites it with LF.
			missing = append(missing, u.short(p))
			repair = append(repair, u.short(p))
		default:
			missing = append(missing, u.short(p))
		}
	}
	st.On = len(missing) == 0 && len(have) > 0
	switch {
	case st.On:
		st.Detail = "ulimit -c 0 in " + strings.Join(have, ", ") + "; applies to shells started from now on"
	case len(have) > 0:
		st.Detail = "only in " + strings.Join(have, ", ") + "; missing in " + strings.Join(missing, ", ")
	default:
		st.Detail = "new shells keep the system's core limit"
	}
	if len(repair) > 0 {
		st.Detail += "; the block in " + strings.Join(repair, ", ") + " has CRLF line endings, which bash and zsh reject: turn on again to repair"
	}
	// Settings that defeat ours: later in the same file, or in a file the
	// same shell reads after it.
	var overridden []string
	for _, sf := range u.readOrder() {
		data, err := readDotfile(sf.path)
		if err != nil {
			continue
		}
		ourFile, ourLine := "", 0
		for p, l := range blockAt {
			if shellOf(u, p) == sf.shell {
				ourFile, ourLine = p, l
			}
		}
		for _, hit := range coreLimitLines(data) {
			ref := describeLine(u.short(sf.path), hit.line) + ": " + hit.text
			after := false
			if ourFile != "" {
				ourOrder := orderOf(u, ourFile)
				after = sf.order > ourOrder || (sf.path == ourFile && hit.line > ourLine)
			}
			if !st.On || after {
				st.Conflicts = append(st.Conflicts, ref)
			} else {
				overridden = append(overridden, ref)
			}
		}
	}
	if len(overridden) > 0 {
		st.Detail += " (overrides " + strings.Join(overridden, "; ") + ")"
	}
	if st.On && len(st.Conflicts) > 0 {
		st.Detail += "; but a later line raises the limit again"
	}
	if u.Env.GOOS == "darwin" {
		// launchd's own limit applies to apps it starts, not to shells; we
		// report it and leave it (changing it needs root and is the
		// kern.coredump toggle's job). core(5): `launchctl limit core`.
		if out, err := syscmd.Run(ctx, 0, "launchctl", "limit", "core"); err == nil {
			st.Detail += "; launchd's limit for apps: " + strings.Join(strings.Fields(out), " ")
		}
	}
	return st
}

func orderOf(u *Ulimit, path string) int {
	for _, sf := range u.readOrder() {
		if sf.path == path {
			return sf.order
		}
	}
	return 0
}

func shellOf(u *Ulimit, path string) string {
	for _, sf := range u.readOrder() {
		if sf.path == path {
			return sf.shell
		}
	}
	return ""
}

type limitHit struct {
	line int
	text string
}

// coreLimitLines finds lines outside our block that set a core limit above 0.
func coreLimitLines(data []byte) []limitHit {
	var hits []limitHit
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n, inBlock := 0, false
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, BeginMarker):
			inBlock = true
			continue
		case line == EndMarker:
			inBlock = false
			continue
		}
		if inBlock || strings.HasPrefix(line, "#") {
			continue
		}
		if reCoreLimit.MatchString(line) {
			if len(line) > 120 {
				line = line[:120] + "…"
			}
			hits = append(hits, limitHit{n, line})
		}
	}
	return hits
}

func blockLine(data []byte) int {
	start, _, ok := findBlock(data)
	if !ok {
		return 0
	}
	return bytes.Count(data[:start], []byte("\n")) + 1
}

// short writes a path under the home folder as ~/...
func (u *Ulimit) short(p string) string {
	if rel, err := filepath.Rel(u.Env.Home, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "~/" + rel
	}
	return p
}

func (u *Ulimit) Set(ctx context.Context, on bool) error {
	var errs []error
	files := u.targets()
	if !on {
		// Off removes our block wherever it is, target or not.
		files = nil
		for _, sf := range u.readOrder() {
			files = append(files, sf.path)
		}
	}
	for _, p := range files {
		err := u.Env.editFile(p, 0o644, func(old []byte, existed bool) ([]byte, bool, error) {
			if on {
				out, err := InsertBlock(old, ulimitBody, existed)
				return out, false, err
			}
			if !existed {
				return old, false, nil
			}
			out, del, err := RemoveBlock(old)
			return out, del, err
		})
		if err != nil && !(errors.Is(err, fs.ErrNotExist) && !on) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("ulimit-core %s: %w", onOff(on), errors.Join(errs...))
	}
	return nil
}

// readDotfile reads a start-up file (following symlinks), refusing
// anything that is not a regular file and anything huge.
func readDotfile(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	if fi.Size() > 8<<20 {
		return nil, fmt.Errorf("%s is too large (%d bytes) for a start-up file", p, fi.Size())
	}
	return os.ReadFile(p)
}
