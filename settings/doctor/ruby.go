package doctor

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/forkwatch/forkwatch/internal/interp"
	"github.com/forkwatch/forkwatch/internal/trust"
)

// Ruby origins, as RubyInventory names them (asdf's is OriginAsdf, shared
// with Python's).
const (
	OriginRbenv = "rbenv"
	OriginRVM   = "rvm"
)

// reRuby matches Ruby interpreter names: ruby, ruby3.3 (Debian, MacPorts).
// Not rubocop, ruby-build, ruby_executable_hooks.
var reRuby = regexp.MustCompile(`^ruby(?:[0-9]+(?:\.[0-9]+)*)?$`)

// rubyCandidates lists the paths that may be a Ruby: PATH first (what
// `ruby` runs), then where the version managers and Homebrew put them:
// rbenv's $RBENV_ROOT/versions/V (default ~/.rbenv, rbenv(1)), rvm's
// ~/.rvm/rubies/ruby-V (gbaptista/ollama-ai#8 shows
// ~/.rvm/rubies/ruby-3.3.0/lib/libruby.3.3.dylib in a fork crash), asdf's
// ~/.asdf/installs/ruby/V (asdf-vm/asdf-ruby builds there with
// ruby-build), Homebrew's keg-only ruby under /opt/homebrew/opt/ruby and
// /usr/local/opt/ruby (not linked into bin: its caveat asks for PATH), and
// Apple's /usr/bin/ruby. Shim folders are skipped: rbenv's and asdf's
// shims are scripts that run one of the versions listed here.
func rubyCandidates(o *Options) []string {
	var dirs []string
	for _, d := range filepath.SplitList(o.PATH) {
		if d != "" && filepath.IsAbs(d) && filepath.Base(d) != "shims" {
			dirs = append(dirs, d)
		}
	}
	glob := func(pattern string) {
		m, _ := filepath.Glob(pattern)
		sort.Strings(m)
		dirs = append(dirs, m...)
	}
	if o.Home != "" {
		glob(filepath.Join(o.Home, ".rbenv", "versions", "*", "bin"))
		glob(filepath.Join(o.Home, ".rvm", "rubies", "*", "bin"))
		glob(filepath.Join(o.Home, ".asdf", "installs", "ruby", "*", "bin"))
	}
	dirs = append(dirs, o.sys("/opt/homebrew/opt/ruby/bin"), o.sys("/usr/local/opt/ruby/bin"), o.sys("/usr/bin"))
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		d = filepath.Clean(d)
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if p := filepath.Join(d, e.Name()); reRuby.MatchString(e.Name()) && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// RubyInventory finds the Ruby interpreters, deduplicated by real path,
// asks each (with a time limit, RUBYOPT and RUBYLIB removed so that no
// user code loads) for its version, and codesign for its signature facts.
// Run gives each the same core-dump verdicts as a Python: a Ruby killed
// after fork() writes a core file on the same conditions. The fork-safety
// variable's verdicts (Report.ForkSafety) are the machine's and hold for
// every runtime. Fork tracing and the live probe stay Python-only.
func RubyInventory(ctx context.Context, o Options) []Interpreter {
	o.fill()
	var list []Interpreter
	byReal := map[string]int{}
	for _, p := range rubyCandidates(&o) {
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
		list = append(list, Interpreter{Path: p, RealPath: real})
	}
	var wg sync.WaitGroup
	for i := range list {
		wg.Add(1)
		go func(in *Interpreter) {
			defer wg.Done()
			// PATH, a version manager's folder or Homebrew's may hold a
			// ruby another user controls: run only what trust accepts.
			if err := trust.CheckExecutable(in.Path, o.uid()); err != nil {
				in.Skipped = untrustedReason(err)
				in.HardenedRuntime, in.GetTaskAllow = Unknown, Unknown
				in.Origin = rubyOrigin(&o, in)
				return
			}
			askRuby(ctx, &o, in)
			readSignature(ctx, &o, in)
			in.Origin = rubyOrigin(&o, in)
		}(&list[i])
	}
	wg.Wait()
	return list
}

// askRuby runs the interpreter once for its version.
func askRuby(ctx context.Context, o *Options, in *Interpreter) {
	// interp removes RUBYOPT and RUBYLIB and runs it in a private folder.
	out, errOut, err := interp.Run(ctx, o.AskTimeout, interp.Spec{
		Lang: interp.Ruby, Path: in.Path, Env: os.Environ(), UID: o.uid(),
		Args: []string{"--disable-gems", "-e", `STDOUT.write("FW1\t" + RUBY_VERSION + "\n")`},
	})
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "FW1\t"); ok && v != "" {
			in.Version = v
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

// rubyOrigin names where a Ruby comes from by its path, then its real
// path.
func rubyOrigin(o *Options, in *Interpreter) string {
	for _, p := range []string{in.Path, in.RealPath} {
		switch {
		case strings.Contains(p, "/.rbenv/versions/"):
			return OriginRbenv
		case strings.Contains(p, "/.rvm/rubies/"):
			return OriginRVM
		case strings.Contains(p, "/.asdf/installs/ruby/"):
			return OriginAsdf
		case strings.HasPrefix(p, o.sys("/opt/homebrew/")), strings.HasPrefix(p, o.sys("/usr/local/Cellar/")),
			strings.HasPrefix(p, o.sys("/usr/local/opt/")), strings.Contains(p, "/linuxbrew/"):
			return OriginHomebrew
		case strings.HasPrefix(p, o.sys("/System/Library/Frameworks/Ruby.framework/")):
			return OriginSystem
		}
	}
	if strings.HasPrefix(in.RealPath, o.sys("/usr/bin")+"/") || strings.HasPrefix(in.RealPath, o.sys("/bin")+"/") {
		return OriginSystem
	}
	return OriginOther
}
