// Package project reads a project's own configuration for the tools that
// fork: gunicorn.conf.py, Procfile, pytest's configuration and forked
// markers, huey's Django settings, locust.conf, config/puma.rb,
// config/queue.yml, Gemfile.lock and pinned requirements. A tool set to fork
// in a configuration file is invisible on the command line (pytest with
// --forked in addopts, Puma with Solid Queue's plugin), so the crash path
// (monitor/attribute) asks here, and `forkwatch check` (issue 30) prints
// the same findings before anything runs.
//
// Files are data: nothing is executed or imported, only files the user owns
// that nobody else can write are read (no symbolic links, no FIFOs), each at
// most Options.MaxFileSize bytes, and a file that does not parse is skipped
// and listed in Result.Skipped. It sits below monitor/attribute and above
// monitor/report, whose tool table (report.Frameworks) and version rules it
// uses: one table for both paths.
package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/forkwatch/forkwatch/internal/regular"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// Finding is one tool the project's configuration sets up, where, and what
// to do about it.
type Finding struct {
	// Tool is a report.Framework name ("gunicorn", "solid_queue").
	Tool string `json:"tool"`
	// Mode says how the file sets it up ("preload_app = True",
	// "plugin :solid_queue", "--forked in addopts", "workers 0").
	Mode string `json:"mode"`
	// Forks: in this mode the tool forks without exec.
	Forks bool `json:"forks"`
	// File and Line are where it was read (Line 1-based).
	File string `json:"file"`
	Line int    `json:"line"`
	// Text is the line as written, cleaned and bounded.
	Text string `json:"text"`
	// Fix and FixSource are the tool's row's (report.FrameworkByName), for
	// a finding that forks.
	Fix       string `json:"fix,omitempty"`
	FixSource string `json:"fix_source,omitempty"`
	// Caveats are what versions or conditions change: an unpinned version
	// the verdict depends on, a plugin loaded only when a variable is set.
	Caveats []string `json:"caveats,omitempty"`
}

// Skip is a file that was there but not read, and why.
type Skip struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// Result is what Scan found: findings in file order, the versions the
// project pins (gem or distribution name → version), and the files skipped.
type Result struct {
	Dir      string            `json:"dir"`
	Findings []Finding         `json:"findings"`
	Versions map[string]string `json:"versions,omitempty"`
	Skipped  []Skip            `json:"skipped,omitempty"`
	// Installed are the versions read from the project's venv (key as in
	// Versions), with the METADATA file each came from.
	Installed map[string]Installed `json:"installed,omitempty"`
}

// Installed is one distribution's version as the venv has it installed.
type Installed struct {
	Version string `json:"version"`
	File    string `json:"file"`
}

// Options bound a scan.
type Options struct {
	// UID is the user whose files may be read; others' are skipped.
	UID int
	// MaxFileSize caps each file read (DefaultMaxFileSize when 0).
	MaxFileSize int64
	// MaxWalk caps the files looked at while searching test files and
	// Django settings (DefaultMaxWalk when 0).
	MaxWalk int
	// VirtualEnv is a venv to read when the project has no .venv or venv
	// folder ($VIRTUAL_ENV for Scan); read only when the user owns it.
	VirtualEnv string
}

// Defaults for Options.
const (
	DefaultMaxFileSize = 256 << 10
	DefaultMaxWalk     = 5000
)

// ErrNotProject means the folder cannot be scanned: not a folder, or not
// the user's own.
var ErrNotProject = errors.New("not a project folder the user owns")

// Scan reads the project in dir as the current user.
func Scan(dir string) (Result, error) {
	return ScanWith(dir, Options{UID: os.Getuid(), VirtualEnv: os.Getenv("VIRTUAL_ENV")})
}

// ScanWith reads the project in dir with the given bounds. It fails only
// when dir itself cannot be read as the user's project; a file that cannot
// be read or parsed is listed in Result.Skipped.
func ScanWith(dir string, o Options) (Result, error) {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxWalk <= 0 {
		o.MaxWalk = DefaultMaxWalk
	}
	dir = filepath.Clean(dir)
	res := Result{Dir: dir, Versions: map[string]string{}}
	if err := ownedDir(dir, o.UID); err != nil {
		return res, fmt.Errorf("scan %s: %w", dir, err)
	}
	s := &scanner{dir: dir, o: o, res: &res}
	s.gemfileLock()
	s.requirements()
	s.venv()
	s.procfiles()
	s.compose()
	s.gunicornConf()
	s.pytestConfig()
	s.forkedMarkers()
	s.hueySettings()
	s.locustConf()
	s.dotenv()
	s.pumaConfig()
	s.queueYML()
	s.finish()
	return res, nil
}

// scanner is one scan's state.
type scanner struct {
	dir string
	o   Options
	res *Result
}

// read returns a file's bytes when it may be read: a regular file (not a
// symbolic link) owned by the user that neither group nor others can
// write, at most MaxFileSize bytes. A missing file is no news (nil, false);
// any other refusal is listed in Skipped.
func (s *scanner) read(path string) ([]byte, bool) {
	fi, err := os.Lstat(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.skip(path, err.Error())
		}
		return nil, false
	}
	if reason := ownedFile(fi, s.o.UID); reason != "" {
		s.skip(path, reason)
		return nil, false
	}
	data, err := regular.Read(path, s.o.MaxFileSize)
	if err != nil {
		s.skip(path, err.Error())
		return nil, false
	}
	return data, true
}

func (s *scanner) skip(path, reason string) {
	s.res.Skipped = append(s.res.Skipped, Skip{File: path, Reason: report.Clean(reason, 256)})
}

// add records a finding with its tool's fix.
func (s *scanner) add(f Finding) {
	f.Text = report.Clean(strings.TrimSpace(f.Text), 256)
	if fw, ok := report.FrameworkByName(f.Tool); ok && f.Forks {
		f.Fix, f.FixSource = fw.Fix, fw.FixSource
	}
	s.res.Findings = append(s.res.Findings, f)
}

// finish adds version caveats and sorts the findings by file and line.
func (s *scanner) finish() {
	for i := range s.res.Findings {
		f := &s.res.Findings[i]
		f.Caveats = append(f.Caveats, versionCaveats(f, s.res.Versions)...)
	}
	sort.SliceStable(s.res.Findings, func(i, j int) bool {
		a, b := s.res.Findings[i], s.res.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	if len(s.res.Versions) == 0 {
		s.res.Versions = nil
	}
}

// Hints turns findings into what the crash path's tool recognition takes.
func (r Result) Hints() []report.ProjectHint {
	out := make([]report.ProjectHint, 0, len(r.Findings))
	for _, f := range r.Findings {
		out = append(out, report.ProjectHint{Tool: f.Tool, Mode: f.Mode, Forks: f.Forks, File: f.File, Line: f.Line, Caveats: f.Caveats})
	}
	return out
}

// AtRisk says whether any finding forks without exec.
func (r Result) AtRisk() bool {
	for _, f := range r.Findings {
		if f.Forks {
			return true
		}
	}
	return false
}

// ownedDir checks that dir is a folder (not a link) the user owns that
// nobody else can write.
func ownedDir(dir string, uid int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("not a folder: %w", ErrNotProject)
	}
	if reason := owned(fi, uid); reason != "" {
		return fmt.Errorf("%s: %w", reason, ErrNotProject)
	}
	return nil
}

// ownedFile says why a file may not be read ("" when it may).
func ownedFile(fi fs.FileInfo, uid int) string {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return "a symbolic link"
	}
	if !fi.Mode().IsRegular() {
		return "not a regular file"
	}
	return owned(fi, uid)
}

func owned(fi fs.FileInfo, uid int) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return "owner unknown"
	case int(st.Uid) != uid:
		return fmt.Sprintf("owned by uid %d", st.Uid)
	case fi.Mode().Perm()&0o002 != 0:
		return "writable by others"
	case fi.Mode().Perm()&0o020 != 0:
		return "writable by group"
	}
	return ""
}

// lines splits a file into its lines (without the newline).
func lines(data []byte) []string {
	return strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
}

// lineOf is the 1-based number of the first line at or after from that
// matches, or 0.
func lineOf(ls []string, from int, match func(string) bool) int {
	for i := max(from, 0); i < len(ls); i++ {
		if match(ls[i]) {
			return i + 1
		}
	}
	return 0
}
