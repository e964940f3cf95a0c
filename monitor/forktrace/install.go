package forktrace

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/forkwatch/forkwatch/internal/atomicfile"
	interprun "github.com/forkwatch/forkwatch/internal/interp"
	"github.com/forkwatch/forkwatch/internal/safefs"
	"github.com/forkwatch/forkwatch/internal/trust"
)

// The tracer, shipped inside the binary.
var (
	//go:embed tracer/forkwatch_forktrace.py
	moduleTemplate []byte
	//go:embed tracer/forkwatch_forktrace.pth
	pthContent []byte
)

// File names in site-packages.
const (
	ModuleName = "forkwatch_forktrace.py"
	PthName    = "forkwatch_forktrace.pth"
	moduleStem = "forkwatch_forktrace"
	// moduleMarker starts every module we write; a file without it is not
	// ours and is never overwritten or removed.
	moduleMarker = "# forkwatch fork tracer:"
)

// States of a tracer in one site-packages folder.
const (
	StateEnabled  = "enabled"  // both files, ours, writing to our spool
	StateDisabled = "disabled" // neither file
	StatePartial  = "partial"  // one of the two files (an interrupted install or removal)
	StateOther    = "other"    // ours, but writing to another spool (another support folder)
	StateGone     = "gone"     // the folder no longer exists (a deleted venv took the tracer with it)
	// StateNotRun: the interpreter was not asked, since someone other than
	// the user (or root) could have chosen it (internal/trust); Detail says why.
	StateNotRun = "not run"
)

// Errors callers tell apart.
var (
	// ErrRefused: the target is a system or Apple Python, or a folder we
	// must not write into.
	ErrRefused = errors.New("refused")
	// ErrUnsupported: the interpreter has no os.register_at_fork (before 3.7).
	ErrUnsupported = errors.New("interpreter too old for fork tracing (needs Python 3.7+)")
	// ErrNotOurs: a file of the tracer's name that Forkwatch did not write.
	ErrNotOurs = errors.New("file not written by Forkwatch")
)

// Manager installs and removes tracers and keeps the registry of where it
// put them, under Dir (<support folder>/forktrace).
type Manager struct {
	Dir string
	// Places are glob patterns of site-packages folders searched by Status
	// for tracers left behind and for the menu's list of interpreters.
	Places []string
	// Timeout bounds each run of an interpreter.
	Timeout time.Duration
	Log     *slog.Logger
}

// New returns the manager for a support folder; home is the user's home
// folder (for the places interpreters and venvs usually live).
func New(supportDir, home string) *Manager {
	return &Manager{Dir: filepath.Join(supportDir, "forktrace"), Places: DefaultPlaces(home), Timeout: 15 * time.Second}
}

// DefaultPlaces are where Python installations and venvs usually live on a
// Mac (pyenv, Homebrew, python.org, uv, conda, virtualenvwrapper, pipenv,
// poetry), as site-packages globs.
func DefaultPlaces(home string) []string {
	sp := "lib/python3*/site-packages"
	var p []string
	for _, d := range []string{
		".pyenv/versions/*", ".local/share/uv/python/*", ".virtualenvs/*", ".local/share/virtualenvs/*",
		"Library/Caches/pypoetry/virtualenvs/*", "miniconda3", "miniconda3/envs/*", "anaconda3", "anaconda3/envs/*",
		"miniforge3", "miniforge3/envs/*",
	} {
		p = append(p, filepath.Join(home, d, sp))
	}
	return append(p,
		"/opt/homebrew/lib/python3*/site-packages",
		"/usr/local/lib/python3*/site-packages",
		"/Library/Frameworks/Python.framework/Versions/*/"+sp,
	)
}

// SpoolDir is where the tracers write.
func (m *Manager) SpoolDir() string { return filepath.Join(m.Dir, "spool") }

// RegistryPath is the list of installed tracers.
func (m *Manager) RegistryPath() string { return filepath.Join(m.Dir, "installs.json") }

func (m *Manager) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.Default()
}

// Install is one tracer Forkwatch installed (a registry entry).
type Install struct {
	Target       string    `json:"target"` // as the user named it: a venv folder or an interpreter
	Python       string    `json:"python"` // the interpreter run to find site-packages
	Version      string    `json:"version"`
	SitePackages string    `json:"site_packages"`
	Spool        string    `json:"spool"`
	NewPycache   bool      `json:"new_pycache,omitempty"` // site-packages/__pycache__ did not exist before
	Installed    time.Time `json:"installed"`
}

// Entry is one interpreter or venv as Status sees it.
type Entry struct {
	Target       string `json:"target"`
	Python       string `json:"python,omitempty"`
	Version      string `json:"version,omitempty"`
	SitePackages string `json:"site_packages"`
	State        string `json:"state"`
	Spool        string `json:"spool,omitempty"` // the spool the installed module writes to
	Registered   bool   `json:"registered"`      // in Forkwatch's registry (enabled here once)
	Detail       string `json:"detail,omitempty"`
}

// Enabled says whether the menu's check mark is on.
func (e Entry) Enabled() bool { return e.State == StateEnabled }

// interp is what the interpreter says about itself.
type interp struct {
	Version    []int  `json:"version"`
	Executable string `json:"executable"`
	Prefix     string `json:"prefix"`
	BasePrefix string `json:"base_prefix"`
	Purelib    string `json:"purelib"`
	Stdlib     string `json:"stdlib"`
	ForkHook   bool   `json:"fork_hook"`
	Loaded     bool   `json:"loaded"`
}

func (i interp) version() string {
	s := make([]string, len(i.Version))
	for k, v := range i.Version {
		s[k] = fmt.Sprint(v)
	}
	return strings.Join(s, ".")
}

// queryScript runs in the target interpreter (Python 2.7 too, so that it
// can say it is too old). -E -s: ignore PYTHON* variables and the user
// site; site itself runs, since before 3.11 it is what makes a venv's
// prefix the venv.
const queryScript = `import sys, os, json, sysconfig
print(json.dumps({"version": list(sys.version_info[:3]), "executable": sys.executable, "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix), "purelib": sysconfig.get_paths()["purelib"], "stdlib": sysconfig.get_paths()["stdlib"], "fork_hook": hasattr(os, "register_at_fork"), "loaded": "forkwatch_forktrace" in sys.modules}))`

// resolveTarget turns what the user named into an interpreter to run: a
// folder is a venv (or conda env) and runs its bin/python3.
func resolveTarget(target string) (abs, python string, err error) {
	abs, err = filepath.Abs(target)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", target, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return abs, "", fmt.Errorf("%s: %w", target, err)
	}
	if !fi.IsDir() {
		return abs, abs, nil
	}
	for _, name := range []string{"python3", "python"} {
		p := filepath.Join(abs, "bin", name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return abs, p, nil
		}
	}
	return abs, "", fmt.Errorf("%s is a folder without bin/python3: not a venv", target)
}

// systemPrefixes are Pythons Forkwatch never writes into: Apple's (signed,
// on the sealed system volume or in the Command Line Tools and Xcode) and
// the operating system's own (/usr, but not /usr/local).
var systemPrefixes = []string{"/System/", "/Library/Developer/CommandLineTools/", "/Applications/Xcode", "/usr/", "/bin/", "/sbin/"}

// refuseSystem returns ErrRefused for a path inside a system Python.
func refuseSystem(what, p string) error {
	if p == "" {
		return nil
	}
	p = filepath.Clean(p) + "/"
	if strings.HasPrefix(p, "/usr/local/") {
		return nil
	}
	for _, pre := range systemPrefixes {
		if strings.HasPrefix(p, pre) {
			return fmt.Errorf("%s %s is a system or Apple Python; Forkwatch does not change it (make a venv from it and trace that): %w", what, strings.TrimSuffix(p, "/"), ErrRefused)
		}
	}
	return nil
}

// query asks the interpreter about itself, with a time limit.
func (m *Manager) query(ctx context.Context, python string) (interp, error) {
	var in interp
	// The interpreter may come from a crash report's venv: run it only
	// when nobody but the user (or root) can have put it there.
	// interprun.Run checks it (trust.CheckExecutable) and runs it with -E -s
	// in a private working folder: no module planted in the current
	// folder is imported.
	out, errOut, err := interprun.Run(ctx, m.Timeout, interprun.Spec{
		Lang: interprun.Python, Path: python, Args: []string{"-c", queryScript}, UID: os.Getuid(), Name: "trace",
	})
	var te *trust.Error
	switch {
	case errors.As(err, &te):
		return in, fmt.Errorf("%s: %w", python, err)
	case err != nil && strings.TrimSpace(errOut) != "":
		return in, fmt.Errorf("ask %s for its site-packages: %w: %s", python, err, shorten(strings.TrimSpace(errOut)))
	case err != nil:
		return in, fmt.Errorf("ask %s for its site-packages: %w", python, err)
	}
	// The last line: a .pth file may print before us.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &in); err != nil {
		return in, fmt.Errorf("ask %s for its site-packages: unexpected answer %q", python, shorten(out))
	}
	if in.Purelib == "" || !filepath.IsAbs(in.Purelib) {
		return in, fmt.Errorf("%s names no site-packages folder (%q)", python, in.Purelib)
	}
	return in, nil
}

func shorten(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// moduleFor is the tracer module writing to spool.
func moduleFor(spool string) ([]byte, error) {
	if !utf8.ValidString(spool) || !filepath.IsAbs(spool) {
		return nil, fmt.Errorf("spool folder %q must be an absolute UTF-8 path", spool)
	}
	q, err := json.Marshal(spool) // a JSON string is a valid Python 3 string literal
	if err != nil {
		return nil, err
	}
	out := bytes.Replace(moduleTemplate, []byte(`"@SPOOL@"`), q, 1)
	if bytes.Equal(out, moduleTemplate) {
		return nil, errors.New("tracer template has no spool placeholder")
	}
	return out, nil
}

var spoolLine = regexp.MustCompile(`(?m)^SPOOL = (".*")$`)

// moduleSpool reads the spool an installed module writes to; ok is false
// for a file that is not ours.
func moduleSpool(data []byte) (spool string, ok bool) {
	if !bytes.HasPrefix(data, []byte(moduleMarker)) {
		return "", false
	}
	m := spoolLine.FindSubmatch(data)
	if m == nil || json.Unmarshal(m[1], &spool) != nil {
		return "", true
	}
	return spool, true
}

// isOurPth says whether a .pth file is the one we write (any version: it
// names our module and nothing else).
func isOurPth(data []byte) bool {
	return bytes.Contains(data, []byte("import forkwatch_forktrace")) && bytes.Count(data, []byte("\n")) <= 1
}

// checkWritable refuses a site-packages folder we may not or must not
// write into: not writable by us, or, when running as root, someone
// else's (a `sudo forkwatch trace enable` would leave root-owned files in a
// user's venv). Forkwatch never asks for privileges to install a tracer.
func checkWritable(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("site-packages %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("site-packages %s is not a folder", dir)
	}
	if err := syscall.Access(dir, 2); err != nil {
		return fmt.Errorf("site-packages %s is not writable by you (%v); Forkwatch does not use sudo: trace a venv you own instead: %w", dir, err, fs.ErrPermission)
	}
	// Ownership and who else can write are openSite's (internal/trust).
	return nil
}

// Enable installs the tracer into the site-packages of target (a venv
// folder or an interpreter) and records it in the registry. It writes the
// module, then the .pth (so the .pth never names a missing module), each
// atomically, and checks that the interpreter now loads it.
func (m *Manager) Enable(ctx context.Context, target string) (Entry, error) {
	if abs, err := filepath.Abs(target); err != nil {
		return Entry{}, err
	} else if err := refuseSystem("interpreter", abs); err != nil {
		return Entry{}, err
	}
	abs, python, err := resolveTarget(target)
	if err != nil {
		return Entry{}, err
	}
	if err := refuseSystem("interpreter", python); err != nil {
		return Entry{}, err
	}
	in, err := m.query(ctx, python)
	if err != nil {
		return Entry{}, err
	}
	site := in.Purelib
	if real, err := filepath.EvalSymlinks(site); err == nil {
		site = real
	}
	for what, p := range map[string]string{"prefix": in.Prefix, "site-packages": site} {
		if err := refuseSystem(what, p); err != nil {
			return Entry{}, err
		}
	}
	// PEP 668: a distributor (Homebrew, Debian) marks the Pythons it
	// manages; only a venv made from them is the user's to change.
	if in.Prefix == in.BasePrefix && in.Stdlib != "" {
		if _, err := os.Stat(filepath.Join(in.Stdlib, "EXTERNALLY-MANAGED")); err == nil {
			return Entry{}, fmt.Errorf("%s is managed by its distributor (%s): make a venv from it (%s -m venv DIR) and trace that: %w",
				python, filepath.Join(in.Stdlib, "EXTERNALLY-MANAGED"), python, ErrRefused)
		}
	}
	if !in.ForkHook {
		return Entry{}, fmt.Errorf("%s is Python %s: %w", python, in.version(), ErrUnsupported)
	}
	if err := checkWritable(site); err != nil {
		return Entry{}, err
	}
	sd, err := openSite(site, in.Prefix != in.BasePrefix)
	if err != nil {
		return Entry{}, err
	}
	defer sd.Close()
	for _, name := range []string{ModuleName, PthName} {
		if err := sd.refuseForeignAt(name); err != nil {
			return Entry{}, err
		}
	}
	spool := m.SpoolDir()
	mod, err := moduleFor(spool)
	if err != nil {
		return Entry{}, err
	}
	if err := CreateRing(spool); err != nil {
		return Entry{}, err
	}
	ins := Install{Target: abs, Python: python, Version: in.version(), SitePackages: site, Spool: spool, Installed: time.Now().UTC()}
	if prev, ok := m.registered(abs); ok && prev.SitePackages == site {
		ins.NewPycache = prev.NewPycache
	} else if _, err := os.Lstat(filepath.Join(site, "__pycache__")); errors.Is(err, fs.ErrNotExist) {
		ins.NewPycache = true
	}
	// Registry first: a tracer that is on disk is always one uninstall knows.
	if err := m.updateRegistry(func(list []Install) []Install {
		return append(removeInstall(list, abs), ins)
	}); err != nil {
		return Entry{}, err
	}
	if err := sd.write(ModuleName, mod, 0o644); err != nil {
		return Entry{}, fmt.Errorf("install tracer: %w", err)
	}
	if err := sd.write(PthName, pthContent, 0o644); err != nil {
		if rerr := sd.remove(ModuleName); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return Entry{}, fmt.Errorf("install tracer: %w", err)
	}
	// Check that the interpreter loads it and still works; otherwise take
	// it out again: a tracer that is not loaded only misleads.
	after, err := m.query(ctx, python)
	if err == nil && !after.Loaded {
		err = fmt.Errorf("%s does not load it (is %s on its sys.path at start-up?)", python, site)
	}
	if err != nil {
		rerr := removeTracer(site, ins.NewPycache)
		if rerr == nil {
			rerr = m.updateRegistry(func(list []Install) []Install { return removeInstall(list, abs) })
		}
		return Entry{}, errors.Join(fmt.Errorf("installed into %s and removed again: %w", site, err), rerr)
	}
	e := m.entryFor(ins.Target, python, ins.Version, site, true)
	m.log().Info("fork tracer enabled", "target", abs, "site_packages", site)
	return e, nil
}

// refuseForeign fails when p exists and is not ours.
func refuseForeign(p string) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file: %w", p, ErrNotOurs)
	}
	data, err := readRegular(p, 1<<20)
	if err != nil {
		return err
	}
	if strings.HasSuffix(p, ".pth") {
		if !isOurPth(data) {
			return fmt.Errorf("%s: %w", p, ErrNotOurs)
		}
	} else if _, ok := moduleSpool(data); !ok {
		return fmt.Errorf("%s: %w", p, ErrNotOurs)
	}
	return nil
}

// Disable removes the tracer from target's site-packages (found in the
// registry, else by asking the interpreter). The registry keeps the target
// (the menu lists it, unchecked). A deleted venv is not an error: the
// tracer went with it.
func (m *Manager) Disable(ctx context.Context, target string) (Entry, error) {
	abs, err := filepath.Abs(target)
	if err != nil {
		return Entry{}, err
	}
	site, python, version := "", "", ""
	registered := false
	if ins, ok := m.registered(abs); ok {
		site, python, version, registered = ins.SitePackages, ins.Python, ins.Version, true
	} else {
		_, py, err := resolveTarget(target)
		if err != nil {
			return Entry{}, err
		}
		in, err := m.query(ctx, py)
		if err != nil {
			return Entry{}, err
		}
		site, python, version = in.Purelib, py, in.version()
		if real, err := filepath.EvalSymlinks(site); err == nil {
			site = real
		}
	}
	newPycache := false
	if ins, ok := m.registered(abs); ok {
		newPycache = ins.NewPycache
	}
	if err := removeTracer(site, newPycache); err != nil {
		return m.entryFor(abs, python, version, site, registered), err
	}
	// The entry stays in the registry, so that the menu keeps offering the
	// venv; UninstallAll finds nothing of ours there.
	m.log().Info("fork tracer disabled", "target", abs, "site_packages", site)
	return m.entryFor(abs, python, version, site, registered), nil
}

// removeTracer removes our two files and their compiled forms from site,
// and __pycache__ when we created it and it is empty. Files that are not
// ours stay. A missing folder is fine.
func removeTracer(site string, newPycache bool) error {
	if _, err := os.Stat(site); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var errs []error
	// The .pth first: a half-removed tracer must never be a .pth naming a
	// missing module.
	for _, p := range []string{filepath.Join(site, PthName), filepath.Join(site, ModuleName)} {
		err := refuseForeign(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	pyc, _ := filepath.Glob(filepath.Join(site, "__pycache__", moduleStem+".*.pyc"))
	pyc = append(pyc, filepath.Join(site, moduleStem+".pyc"))
	for _, p := range pyc {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if newPycache {
		// Remove fails on a non-empty folder, which is what we want.
		_ = syscall.Rmdir(filepath.Join(site, "__pycache__"))
	}
	return errors.Join(errs...)
}

// entryFor reads the state of the tracer in site.
func (m *Manager) entryFor(target, python, version, site string, registered bool) Entry {
	e := Entry{Target: target, Python: python, Version: version, SitePackages: site, Registered: registered}
	if _, err := os.Stat(site); errors.Is(err, fs.ErrNotExist) {
		e.State = StateGone
		return e
	}
	mod, modErr := readRegular(filepath.Join(site, ModuleName), 1<<20)
	pth, pthErr := readRegular(filepath.Join(site, PthName), 1<<20)
	hasMod, hasPth := modErr == nil, pthErr == nil && isOurPth(pth)
	spool, ours := moduleSpool(mod)
	hasMod = hasMod && ours
	switch {
	case hasMod && hasPth:
		e.Spool = spool
		if spool == m.SpoolDir() {
			e.State = StateEnabled
		} else {
			e.State = StateOther
			e.Detail = "writes to " + spool
		}
	case hasMod || hasPth:
		e.State = StatePartial
		e.Spool = spool
		if hasMod {
			e.Detail = "module without its .pth"
		} else {
			e.Detail = ".pth without its module"
		}
	default:
		e.State = StateDisabled
	}
	if modErr == nil && !ours {
		e.Detail = strings.TrimSpace(e.Detail + " " + ModuleName + " exists but is not Forkwatch's")
	}
	return e
}

// Status lists the tracers Forkwatch knows: those in its registry, those
// found in the usual places (left behind by an earlier install whose
// registry is gone, or interpreters the menu can offer), and the targets
// named here (asked for their site-packages, with a time limit).
func (m *Manager) Status(ctx context.Context, targets []string) ([]Entry, error) {
	var out []Entry
	seen := map[string]bool{}
	list, regErr := m.readRegistry()
	for _, ins := range list {
		e := m.entryFor(ins.Target, ins.Python, ins.Version, ins.SitePackages, true)
		out = append(out, e)
		seen[ins.SitePackages] = true
	}
	var errs []error
	if regErr != nil {
		errs = append(errs, regErr)
	}
	for _, t := range targets {
		abs, python, err := resolveTarget(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in, err := m.query(ctx, python)
		var te *trust.Error
		if errors.As(err, &te) {
			out = append(out, Entry{Target: abs, Python: python, State: StateNotRun, Detail: te.Reason + " (" + te.Path + ")"})
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		site := in.Purelib
		if real, err := filepath.EvalSymlinks(site); err == nil {
			site = real
		}
		if seen[site] {
			continue
		}
		seen[site] = true
		out = append(out, m.entryFor(abs, python, in.version(), site, false))
	}
	for _, pat := range m.Places {
		dirs, _ := filepath.Glob(pat)
		for _, site := range dirs {
			if real, err := filepath.EvalSymlinks(site); err == nil {
				site = real
			}
			if seen[site] {
				continue
			}
			seen[site] = true
			target, python := targetOfSite(site)
			out = append(out, m.entryFor(target, python, "", site, false))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out, errors.Join(errs...)
}

// targetOfSite goes from .../lib/python3.X/site-packages back to the venv
// folder or the interpreter.
func targetOfSite(site string) (target, python string) {
	libdir := filepath.Dir(site) // .../lib/python3.X
	prefix := filepath.Dir(filepath.Dir(libdir))
	python = filepath.Join(prefix, "bin", filepath.Base(libdir))
	if _, err := os.Stat(filepath.Join(prefix, "pyvenv.cfg")); err == nil {
		return prefix, python
	}
	return python, python
}

// UninstallAll removes every tracer in the registry (only our own files),
// the spool, and the registry: what `forkwatch uninstall` calls. It
// returns the paths it removed.
//
// The support folder and its forktrace folder are opened without following
// links (internal/safefs: folders of this user's, not links, not writable
// by others), and the spool and the registry are removed from the opened
// folder (os.Root.RemoveAll removes a link, never what it leads to). A
// tracer folder that is a link (issue 28: root with the user's HOME, the
// link leading to a root folder holding a spool folder, removed that
// folder's contents) is refused before anything is read from it, and kept.
func (m *Manager) UninstallAll(ctx context.Context) ([]string, error) {
	_ = ctx
	support, dir, err := m.openOwnDir()
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, nil // no tracer folder: nothing was installed
	}
	defer support.Close()
	defer dir.Close()
	list, err := m.readRegistry()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	var removed []string
	for _, ins := range list {
		before := m.entryFor(ins.Target, ins.Python, ins.Version, ins.SitePackages, true)
		if err := removeTracer(ins.SitePackages, ins.NewPycache); err != nil {
			errs = append(errs, err)
			continue
		}
		if before.State != StateDisabled && before.State != StateGone {
			removed = append(removed, filepath.Join(ins.SitePackages, PthName), filepath.Join(ins.SitePackages, ModuleName))
		}
	}
	if len(errs) > 0 {
		// Keep the registry (and the spool the remaining tracers write to)
		// so that a second uninstall can finish the job.
		return removed, errors.Join(errs...)
	}
	for _, name := range []string{filepath.Base(m.SpoolDir()), filepath.Base(m.RegistryPath())} {
		p := filepath.Join(m.Dir, name)
		if _, err := dir.Root().Lstat(name); err != nil {
			continue
		}
		if err := dir.Root().RemoveAll(name); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
			continue
		}
		removed = append(removed, p)
	}
	// The folder itself, when empty (Root.Remove: unlinkat, AT_REMOVEDIR
	// for a folder, which fails on one that is not empty).
	if err := support.Root().Remove(filepath.Base(m.Dir)); err == nil {
		removed = append(removed, m.Dir)
	}
	return removed, errors.Join(errs...)
}

// openOwnDir opens the support folder and the tracer folder in it without
// following links; dir is nil (and err nil) when either does not exist.
func (m *Manager) openOwnDir() (support, dir *safefs.Dir, err error) {
	support, err = safefs.OpenDir(filepath.Dir(m.Dir), os.Geteuid())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fork tracers: %w; nothing removed", err)
	}
	dir, err = support.OpenDir(filepath.Base(m.Dir))
	if err != nil {
		support.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("fork tracers: %w; nothing removed", err)
	}
	return support, dir, nil
}

// readRegistry reads the list of installs; a missing file is an empty list.
func (m *Manager) readRegistry() ([]Install, error) {
	data, err := readRegular(m.RegistryPath(), 4<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read tracer registry: %w", err)
	}
	var list []Install
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("read tracer registry %s: %w", m.RegistryPath(), err)
	}
	return list, nil
}

func (m *Manager) registered(abs string) (Install, bool) {
	list, _ := m.readRegistry()
	for _, ins := range list {
		if ins.Target == abs {
			return ins, true
		}
	}
	return Install{}, false
}

// updateRegistry rewrites the registry atomically. A registry that cannot
// be read is not overwritten (it may list tracers only it knows about).
func (m *Manager) updateRegistry(edit func([]Install) []Install) error {
	list, err := m.readRegistry()
	if err != nil {
		return err
	}
	list = edit(list)
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", m.Dir, err)
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteAtomic(m.RegistryPath(), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write tracer registry: %w", err)
	}
	return nil
}

func removeInstall(list []Install, target string) []Install {
	out := list[:0:0]
	for _, ins := range list {
		if ins.Target != target {
			out = append(out, ins)
		}
	}
	return out
}
