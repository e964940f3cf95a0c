package doctor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/forkwatch/forkwatch/settings"
)

// Roots are the places the inventory looks in. Tests point them at
// temporary folders; DefaultOptions fills them from this process.
type Roots struct {
	// Home is the user's home folder (pyenv, uv, conda live under it).
	Home string
	// PATH is the search path of the user's shell, colon-separated.
	PATH string
	// Root prefixes the system folders /opt, /Library and /usr ("" is /).
	Root string
	// Managers are the version managers' folders (pyenv, asdf, mise, rye,
	// pdm, hatch); zero means their defaults under Home.
	Managers Managers
}

// Options say what Run checks and where.
type Options struct {
	Roots
	// GOOS decides the macOS-only rules (the Command Line Tools stub,
	// codesign, launchd). Empty means runtime.GOOS.
	GOOS string
	// Settings is where the toggles look (start-up files, LaunchAgents).
	Settings settings.Env
	// SupportDir is Forkwatch's folder; probe pids are registered under
	// SupportDir/probes for the watcher (ProbeMarker).
	SupportDir string
	// ExtraPythons are interpreters to include beyond the inventory: venvs
	// seen in crash reports, --python paths.
	ExtraPythons []string
	// Probe runs the live fork probe on the chosen interpreters.
	Probe bool
	// ProbePythons chooses the interpreters to probe (paths as given or
	// real paths); empty means all that answered.
	ProbePythons []string
	// AskTimeout bounds asking one interpreter its version (default 2 s).
	AskTimeout time.Duration
	// ProbeTimeout bounds one probe run (default 20 s).
	ProbeTimeout time.Duration
	// Now is the clock (tests fix it).
	Now func() time.Time
	Log *slog.Logger
}

// DefaultOptions reads this process's environment.
func DefaultOptions() Options {
	env := settings.DefaultEnv()
	return Options{
		Roots:      Roots{Home: env.Home, PATH: os.Getenv("PATH"), Managers: defaultManagersHere(env.Home)},
		GOOS:       runtime.GOOS,
		Settings:   env,
		SupportDir: env.SupportDir,
	}
}

func (o *Options) fill() {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.AskTimeout <= 0 {
		o.AskTimeout = 2 * time.Second
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 20 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Settings.Home == "" {
		o.Settings.Home = o.Home
	}
	if o.Managers.PyenvRoot == "" && o.Home != "" {
		// The defaults under Home, without asking pyenv (tests, and
		// callers that built their own Options).
		o.Managers = defaultManagers(context.Background(), o.Home, o.GOOS, func(string) string { return "" })
	}
	if o.Settings.GOOS == "" {
		o.Settings.GOOS = o.GOOS
	}
}

// uid is the user whose interpreters doctor may run: the one running it.
func (o *Options) uid() int { return os.Getuid() }

// sys is the root-prefixed form of a system path.
func (o *Options) sys(p string) string {
	if o.Root == "" {
		return p
	}
	return filepath.Join(o.Root, p)
}

// Verdict is one yes/no answer with the one reason that decides it and,
// where there is one, what to do about it.
type Verdict struct {
	Verdict string `json:"verdict"` // yes, no, unknown
	Reason  string `json:"reason"`
	Fix     string `json:"fix,omitempty"`
}

// Verdict values.
const (
	Yes     = "yes"
	No      = "no"
	Unknown = "unknown"
	// NotApplicable is a code-signature fact where there is no codesign.
	NotApplicable = "not applicable"
)

// Report is everything doctor found.
type Report struct {
	GOOS         string        `json:"goos"`
	Time         time.Time     `json:"time"`
	Interpreters []Interpreter `json:"interpreters"`
	// Rubies are the Ruby interpreters found (ruby.go), with the same
	// core-dump verdicts; never probed or traced.
	Rubies     []Interpreter `json:"ruby_interpreters"`
	ForkSafety ForkSafety    `json:"fork_safety"`
	System     CoreSystem    `json:"core_system"`
	// Took is how long the check ran.
	Took time.Duration `json:"-"`
}

// Run checks this machine. It returns a report even when parts fail (each
// part says what it could not read); the error is for a cancelled context.
func Run(ctx context.Context, opts Options) (Report, error) {
	opts.fill()
	start := time.Now()
	rep := Report{GOOS: opts.GOOS, Time: opts.Now()}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		rep.Interpreters = Inventory(ctx, opts)
		rep.Rubies = RubyInventory(ctx, opts)
	}()
	go func() {
		defer wg.Done()
		rep.System = readCoreSystem(ctx, opts)
		rep.ForkSafety = checkForkSafety(ctx, opts)
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("doctor: %w", err)
	}
	for i := range rep.Interpreters {
		in := &rep.Interpreters[i]
		in.CoreFromShell, in.CoreFromLaunchd = coreVerdicts(rep.System, in, opts.GOOS)
	}
	for i := range rep.Rubies {
		in := &rep.Rubies[i]
		in.CoreFromShell, in.CoreFromLaunchd = coreVerdicts(rep.System, in, opts.GOOS)
	}
	if opts.Probe {
		probeAll(ctx, opts, rep.Interpreters, rep.ForkSafety.LaunchdValue)
	}
	rep.Took = time.Since(start)
	return rep, ctx.Err()
}
