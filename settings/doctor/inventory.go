package doctor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/internal/interp"
	"github.com/forkwatch/forkwatch/internal/syscmd"
	"github.com/forkwatch/forkwatch/internal/trust"
)

// Interpreter is one Python on the machine, as `doctor --json` prints it.
type Interpreter struct {
	Path     string `json:"path"`
	RealPath string `json:"real_path"`
	// Aliases are other paths that lead to the same interpreter (a symlink
	// in PATH, a venv's python).
	Aliases     []string `json:"aliases,omitempty"`
	Version     string   `json:"version"`
	Origin      string   `json:"origin"`
	StartMethod string   `json:"start_method"`
	// HardenedRuntime and GetTaskAllow are "yes", "no", "unknown", or "not
	// applicable" where there is no codesign.
	HardenedRuntime string `json:"hardened_runtime"`
	GetTaskAllow    string `json:"get_task_allow"`
	// Signed is what codesign says of the signature: "adhoc", the
	// authority, "unsigned"; empty without codesign.
	Signed string `json:"signed,omitempty"`
	// SignedPath is the binary whose signature was read, when it is not
	// RealPath (a framework build runs Python.app).
	SignedPath string `json:"signed_path,omitempty"`
	// Skipped says why the interpreter was not run.
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`

	CoreFromShell   Verdict      `json:"core_from_shell"`
	CoreFromLaunchd Verdict      `json:"core_from_launchd"`
	Probe           *ProbeResult `json:"probe,omitempty"`

	script bool // a #! script (a shim): the real binary comes from sys.executable
}

// Origins.
const (
	OriginPyenv     = "pyenv"
	OriginUV        = "uv"
	OriginConda     = "conda"
	OriginVenv      = "venv"
	OriginPythonOrg = "python.org"
	OriginHomebrew  = "homebrew"
	OriginCLT       = "clt"
	OriginCLTStub   = "clt-stub"
	OriginSystem    = "system"
	OriginOther     = "other"
)

// rePython matches interpreter names: python, python3, python3.12,
// python3.13t, python2.7. Not python3-config, python3.12-gdb.py.
var rePython = regexp.MustCompile(`^python(?:[23](?:\.[0-9]+)?t?)?$`)

// condaBases are the installers' default folders under the home folder.
var condaBases = []string{"miniconda3", "miniforge3", "anaconda3", "mambaforge", "miniconda", "anaconda", "micromamba"}

// candidates lists every path that may be a Python, in the order a person
// would expect them: PATH first (what `python3` runs), then the well-known
// installation folders, then the extra ones.
func candidates(o *Options) []string {
	var dirs []string
	for _, d := range filepath.SplitList(o.PATH) {
		// Version managers' shims (pyenv, asdf) are scripts that run one
		// of the versions listed below, or fail for a version not
		// selected here: skip them, the versions themselves are listed.
		if filepath.Base(d) == "shims" {
			continue
		}
		if d != "" && filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	dirs = append(dirs,
		o.sys("/opt/homebrew/bin"),
		o.sys("/usr/local/bin"),
	)
	glob := func(pattern string) {
		m, _ := filepath.Glob(pattern)
		sort.Strings(m)
		dirs = append(dirs, m...)
	}
	glob(o.sys("/opt/homebrew/opt/python@*/bin"))
	glob(o.sys("/usr/local/opt/python@*/bin"))
	glob(o.sys("/Library/Frameworks/Python.framework/Versions/*/bin"))
	for _, g := range o.Managers.binGlobs() {
		glob(g)
	}
	if o.Home != "" {
		glob(filepath.Join(o.Home, ".local", "share", "uv", "python", "*", "bin"))
		for _, b := range condaBases {
			dirs = append(dirs, filepath.Join(o.Home, b, "bin"))
			glob(filepath.Join(o.Home, b, "envs", "*", "bin"))
		}
		glob(filepath.Join(o.Home, ".conda", "envs", "*", "bin"))
	}
	for _, b := range condaBases {
		dirs = append(dirs, o.sys(filepath.Join("/opt", b, "bin")))
	}
	dirs = append(dirs, o.sys("/Library/Developer/CommandLineTools/usr/bin"))
	if o.GOOS == "darwin" {
		dirs = append(dirs, o.sys("/usr/bin"))
	}

	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, d := range dirs {
		d = filepath.Clean(d)
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if rePython.MatchString(e.Name()) {
				add(filepath.Join(d, e.Name()))
			}
		}
	}
	for _, p := range o.ExtraPythons {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			// A venv folder: its bin/python.
			for _, n := range []string{"python3", "python"} {
				if _, err := os.Stat(filepath.Join(p, "bin", n)); err == nil {
					p = filepath.Join(p, "bin", n)
					break
				}
			}
		}
		if abs, err := filepath.Abs(p); err == nil {
			add(abs)
		}
	}
	return out
}

// Inventory finds every Python, deduplicated by real path, and asks each
// (in parallel, each with a time limit) for its version and default
// multiprocessing start method, and codesign for its signature facts.
func Inventory(ctx context.Context, o Options) []Interpreter {
	o.fill()
	var list []Interpreter
	byReal := map[string]int{}
	for _, p := range candidates(&o) {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		if i, ok := byReal[real]; ok {
			list[i].Aliases = append(list[i].Aliases, p)
			continue
		}
		byReal[real] = len(list)
		list = append(list, Interpreter{Path: p, RealPath: real, script: isScript(real)})
	}

	clt := &cltCheck{o: &o}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range list {
		wg.Add(1)
		go func(in *Interpreter) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if o.GOOS == "darwin" && o.underUsrBin(in) && !clt.installed(ctx) {
				// /usr/bin/python3 without the Command Line Tools is the
				// xcode-select stub: running it opens an install dialog.
				in.Origin = OriginCLTStub
				in.Skipped = "the Command Line Tools are not installed (xcode-select -p fails): " + in.Path + " is a stub that would open an install dialog; not run"
				in.HardenedRuntime, in.GetTaskAllow = NotApplicable, NotApplicable
				return
			}
			// A path from PATH, a crash report or a venv in one may be
			// a file another user controls: run only what trust accepts.
			if err := trust.CheckExecutable(in.Path, o.uid()); err != nil {
				in.Skipped = untrustedReason(err)
				in.HardenedRuntime, in.GetTaskAllow = Unknown, Unknown
				return
			}
			askInterpreter(ctx, &o, in)
			readSignature(ctx, &o, in)
		}(&list[i])
	}
	wg.Wait()

	// Shims resolve to their interpreter only once asked: merge those that
	// turned out to be the same binary.
	var out []Interpreter
	byReal = map[string]int{}
	for _, in := range list {
		if i, ok := byReal[in.RealPath]; ok && in.Skipped == "" {
			out[i].Aliases = append(out[i].Aliases, in.Path)
			out[i].Aliases = append(out[i].Aliases, in.Aliases...)
			continue
		}
		byReal[in.RealPath] = len(out)
		in.Origin = origin(&o, &in)
		out = append(out, in)
	}
	return out
}

// untrustedReason is the Skipped text for an interpreter trust refused:
// "owned by uid 501 (/tmp/evil)", shown after "not run: ".
func untrustedReason(err error) string {
	var te *trust.Error
	if errors.As(err, &te) {
		return te.Reason + " (" + te.Path + ")"
	}
	return err.Error()
}

func (o *Options) underUsrBin(in *Interpreter) bool {
	usrBin := filepath.Clean(o.sys("/usr/bin")) + string(filepath.Separator)
	return strings.HasPrefix(in.Path, usrBin) || strings.HasPrefix(in.RealPath, usrBin)
}

// cltCheck asks `xcode-select -p` once whether the Command Line Tools (or
// Xcode) are installed: it prints the developer folder and exits 0, or
// fails when there is none.
type cltCheck struct {
	o    *Options
	once sync.Once
	ok   bool
}

func (c *cltCheck) installed(ctx context.Context) bool {
	c.once.Do(func() {
		out, _, err := runTool(ctx, 5*time.Second, nil, "xcode-select", "-p")
		dir := strings.TrimSpace(out)
		if err != nil || dir == "" {
			return
		}
		if _, err := os.Stat(c.o.sys(dir)); err == nil {
			c.ok = true
		}
	})
	return c.ok
}

// isScript reports whether the file starts with #! (a pyenv or asdf shim,
// a wrapper): its signature says nothing about the interpreter.
func isScript(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 2)
	n, _ := f.Read(b)
	return n == 2 && string(b) == "#!"
}

// askScript prints version, default start method and executable. It runs
// under Python 2 and 3 alike; Python 2 has no start methods (it always forks).
const askScript = `import sys
m = ''
try:
    import multiprocessing
    m = multiprocessing.get_start_method()
except AttributeError:
    m = 'fork'
except Exception as e:
    m = 'error: ' + type(e).__name__
sys.stdout.write('FW1\t%s\t%s\t%s\n' % (sys.version.split()[0], m, sys.executable))
`

// askInterpreter runs the interpreter once with a time limit.
func askInterpreter(ctx context.Context, o *Options, in *Interpreter) {
	// The version is not known yet: interp gives -E -s and a private
	// working folder (no planted json.py or multiprocessing.py is imported).
	out, errOut, err := interp.Run(ctx, o.AskTimeout, interp.Spec{
		Lang: interp.Python, Path: in.Path, Args: []string{"-c", askScript}, Env: os.Environ(), UID: o.uid(),
	})
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		if len(f) == 4 && f[0] == "FW1" {
			in.Version, in.StartMethod = f[1], f[2]
			if in.script && f[3] != "" {
				if r, err := filepath.EvalSymlinks(f[3]); err == nil {
					in.RealPath = r
				}
			}
			return
		}
	}
	switch {
	case err != nil:
		in.Error = "asking it failed: " + err.Error()
	default:
		in.Error = "it did not answer"
	}
	if s := lastLine(errOut); s != "" {
		in.Error += ": " + s
	}
}

// pythonEnv is env without the variables that would make one interpreter
// load another's library (PYTHONHOME, PYTHONPATH) or run user code.
func pythonEnv(env []string) []string { return interp.CleanEnv(interp.Python, env) }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// origin names where an interpreter comes from, by its path (a venv is a
// venv even though its python links to the base) and then its real path.
func origin(o *Options, in *Interpreter) string {
	if in.Origin != "" {
		return in.Origin
	}
	binDir := filepath.Dir(in.Path)
	if _, err := os.Stat(filepath.Join(binDir, "..", "pyvenv.cfg")); err == nil {
		return OriginVenv
	}
	for _, p := range []string{in.RealPath, in.Path} {
		if m := o.Managers.originOf(p); m != "" {
			return m
		}
		prefix := filepath.Dir(filepath.Dir(p))
		switch {
		case strings.Contains(p, "/.pyenv/versions/"):
			return OriginPyenv
		case strings.Contains(p, "/uv/python/"):
			return OriginUV
		case dirExists(filepath.Join(prefix, "conda-meta")):
			return OriginConda
		case strings.HasPrefix(p, o.sys("/Library/Frameworks/Python.framework/")):
			return OriginPythonOrg
		case strings.HasPrefix(p, o.sys("/opt/homebrew/")), strings.HasPrefix(p, o.sys("/usr/local/Cellar/")),
			strings.HasPrefix(p, o.sys("/usr/local/opt/")), strings.Contains(p, "/linuxbrew/"):
			return OriginHomebrew
		case strings.HasPrefix(p, o.sys("/Library/Developer/CommandLineTools/")), strings.Contains(p, "/Xcode.app/"):
			return OriginCLT
		}
	}
	if strings.HasPrefix(in.RealPath, o.sys("/usr/bin")+"/") || strings.HasPrefix(in.RealPath, o.sys("/bin")+"/") {
		return OriginSystem
	}
	return OriginOther
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// readSignature reads the hardened-runtime flag and the get-task-allow
// entitlement with one `codesign -d -v --entitlements - --xml PATH`: the
// entitlements go to standard output, the CodeDirectory line with
// "flags=0x10000(runtime)" to standard error. Without codesign (Linux) both
// are "not applicable".
func readSignature(ctx context.Context, o *Options, in *Interpreter) {
	if _, err := syscmd.LookPath("codesign"); err != nil {
		in.HardenedRuntime, in.GetTaskAllow = NotApplicable, NotApplicable
		return
	}
	target := signatureTarget(in.RealPath)
	if target != in.RealPath {
		in.SignedPath = target
	}
	stdout, stderr, err := runTool(ctx, 5*time.Second, nil, "codesign", "-d", "-v", "--entitlements", "-", "--xml", target)
	in.HardenedRuntime, in.GetTaskAllow, in.Signed = parseCodesign(stdout, stderr, err)
}

// signatureTarget is the binary that actually runs: a framework build's
// bin/python3.x starts Resources/Python.app/Contents/MacOS/Python, which
// is the process that crashes (and is named "Python" in crash reports).
func signatureTarget(real string) string {
	bin := filepath.Dir(real)
	if filepath.Base(bin) != "bin" || !strings.Contains(bin, "Python.framework/Versions/") {
		return real
	}
	app := filepath.Join(filepath.Dir(bin), "Resources", "Python.app", "Contents", "MacOS", "Python")
	if _, err := os.Stat(app); err == nil {
		return app
	}
	return real
}

var (
	reCDFlags = regexp.MustCompile(`CodeDirectory v=\S+ size=\S+ flags=0x([0-9a-fA-F]+)\(([^)]*)\)`)
	reGTAXML  = regexp.MustCompile(`<key>com\.apple\.security\.get-task-allow</key>\s*<(true|false)\s*/>`)
	reGTAText = regexp.MustCompile(`com\.apple\.security\.get-task-allow[\s\S]{0,40}?\[Bool\]\s*(true|false)`)
)

// parseCodesign reads codesign's two outputs. An unsigned binary has
// neither flag.
func parseCodesign(stdout, stderr string, err error) (hardened, gta, signed string) {
	all := stdout + "\n" + stderr
	if strings.Contains(all, "not signed at all") {
		return No, No, "unsigned"
	}
	if err != nil && !strings.Contains(all, "CodeDirectory") {
		return Unknown, Unknown, ""
	}
	hardened = Unknown
	if m := reCDFlags.FindStringSubmatch(all); m != nil {
		hardened = No
		for _, f := range strings.Split(m[2], ",") {
			if strings.TrimSpace(f) == "runtime" {
				hardened = Yes
			}
		}
	}
	gta = No
	if m := reGTAXML.FindStringSubmatch(all); m != nil && m[1] == "true" {
		gta = Yes
	} else if m := reGTAText.FindStringSubmatch(all); m != nil && m[1] == "true" {
		gta = Yes
	}
	for _, line := range strings.Split(stderr, "\n") {
		switch {
		case strings.HasPrefix(line, "Signature=adhoc"):
			signed = "adhoc"
		case strings.HasPrefix(line, "Authority=") && signed == "":
			signed = strings.TrimPrefix(line, "Authority=")
		}
	}
	if signed == "" {
		signed = "signed"
	}
	return hardened, gta, signed
}

// runTool runs a system command found on this process's PATH (tests put
// fakes first) with a time limit; it returns both outputs, since codesign
// writes its facts to standard error. The command found must pass the
// ownership check (syscmd.LookPath): one in a PATH folder others can write
// is not run.
func runTool(ctx context.Context, timeout time.Duration, env []string, name string, args ...string) (string, string, error) {
	path, err := syscmd.LookPath(name)
	if err != nil {
		return "", "", err
	}
	return runCmd(ctx, timeout, path, env, "", args...)
}

var errTimeout = errors.New("timed out")

func runCmd(ctx context.Context, timeout time.Duration, path string, env []string, dir string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Dir = dir
	interp.SetProcessGroup(cmd)
	cmd.WaitDelay = 500 * time.Millisecond
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = 1<<20, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return stdout.String(), stderr.String(), errTimeout
	}
	return stdout.String(), stderr.String(), err
}

// limitedBuffer keeps the first max bytes of what a command writes, so a
// runaway interpreter cannot fill memory.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
