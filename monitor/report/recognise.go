package report

import (
	"path"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Spawn and exec helpers: a parent running one of these is not the tool;
// the tool is its own parent (the grandparent of the crash).
const (
	// ProgramSpawnWorker is a multiprocessing spawn child
	// (python -c "from multiprocessing.spawn import spawn_main; ..."),
	// e.g. Airflow 3's LocalExecutor workers.
	ProgramSpawnWorker = "multiprocessing spawn worker"
	// ProgramExecnetWorker is an execnet worker (pytest-xdist's):
	// python -c "import sys;exec(eval(sys.stdin.readline()))".
	ProgramExecnetWorker = "execnet worker"
)

// IsHelperProgram says whether a program name from ToolFromCommand is a
// spawn/exec helper whose own parent names the tool.
func IsHelperProgram(program string) bool {
	return program == ProgramSpawnWorker || program == ProgramExecnetWorker
}

// pythonOptsWithArg are CPython's options that take a separate argument
// (python(1)): the argument must not be read as the script.
var pythonOptsWithArg = map[string]bool{"-W": true, "-X": true, "--check-hash-based-pycs": true, "-Q": true}

// wrappers start the command that follows them, with options of their own
// before it: uv run, poetry run, pipx run, bundle exec... Each either execs
// or spawns the command, so the command is what counts.
var wrappers = map[string]string{"uv": "run", "poetry": "run", "pipx": "run", "pdm": "run", "hatch": "run", "rye": "run", "pipenv": "run", "bundle": "exec", "uvx": "", "env": ""}

// wrapperOptsWithArg are the wrappers' options that take an argument.
var wrapperOptsWithArg = map[string]bool{"--with": true, "--python": true, "-p": true, "--spec": true, "--from": true, "--directory": true, "--project": true, "--package": true, "--env-file": true, "-e": true, "--gemfile": true, "--index": true}

// toolWords drops interpreters, wrappers and their options from a command
// line so that the tool comes first: "python3 -X dev -m celery -A shop
// worker" → ["celery", "-A", "shop", "worker"]; "uv run --with x gunicorn
// app" → ["gunicorn", "app"]; "ruby bin/rails server" → ["rails",
// "server"]. Script paths become their base names, modules their dotted
// names ("rq.cli"). A "-c" command becomes ["-c", CODE].
func toolWords(argv []string) []string {
	for guard := 0; guard < 4 && len(argv) > 0; guard++ {
		first := path.Base(argv[0])
		switch {
		case isPythonExe(argv[0]):
			rest, ok := afterPython(argv[1:])
			if !ok {
				return nil
			}
			if len(rest) > 0 && rest[0] == "-c" {
				return rest
			}
			if len(rest) > 0 && rest[0] == "-m" {
				return rest[1:] // the module's dotted name first
			}
			argv = rest
			return scriptWords(argv)
		case isInterpreter(first):
			argv = afterInterpreter(argv[1:])
		default:
			sub, isWrapper := wrappers[first]
			if !isWrapper {
				return scriptWords(argv)
			}
			i := 1
			if sub != "" {
				if len(argv) < 2 || argv[1] != sub {
					if first == "uv" && len(argv) > 2 && argv[1] == "tool" && argv[2] == "run" {
						i = 3
					} else {
						return scriptWords(argv)
					}
				} else {
					i = 2
				}
			}
			for i < len(argv) {
				a := argv[i]
				if first == "env" && strings.Contains(a, "=") && !strings.HasPrefix(a, "-") {
					i++
					continue
				}
				if a == "--" {
					i++
					break
				}
				if !strings.HasPrefix(a, "-") {
					break
				}
				if wrapperOptsWithArg[a] {
					i++
				}
				i++
			}
			if i >= len(argv) {
				return scriptWords(argv[:1])
			}
			argv = argv[i:]
		}
	}
	return scriptWords(argv)
}

// afterPython skips CPython's own options: "-X dev", "-Wignore", "-OO",
// "--check-hash-based-pycs always". It returns the rest starting at -m, -c
// or the script, and false when nothing follows.
func afterPython(args []string) ([]string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-m" || a == "-c":
			return args[i:], i+1 < len(args)
		case strings.HasPrefix(a, "-m") && len(a) > 2:
			return append([]string{"-m", a[2:]}, args[i+1:]...), true
		case strings.HasPrefix(a, "-c") && len(a) > 2:
			return append([]string{"-c", a[2:]}, args[i+1:]...), true
		case pythonOptsWithArg[a]:
			i++
		case a == "-" || !strings.HasPrefix(a, "-"):
			return args[i:], true
		}
	}
	return nil, false
}

// isInterpreter is a Ruby, Perl or PHP interpreter that runs a script.
func isInterpreter(name string) bool {
	switch {
	case name == "ruby" || strings.HasPrefix(name, "ruby3") || strings.HasPrefix(name, "ruby2"):
		return true
	case name == "perl" || strings.HasPrefix(name, "perl5"):
		return true
	case name == "php" || strings.HasPrefix(name, "php8") || strings.HasPrefix(name, "php7"):
		return true
	}
	return false
}

// afterInterpreter skips a Ruby/Perl/PHP interpreter's options ("-S",
// "-I lib", "-rbundler/setup", "-w").
func afterInterpreter(args []string) []string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return args[i:]
		}
		if a == "-I" || a == "-r" || a == "-C" || a == "-E" || a == "-d" {
			i++
		}
	}
	return nil
}

// scriptWords turns the script's path into its base name.
func scriptWords(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	out := make([]string, 0, len(argv))
	for j, a := range argv {
		if j == 0 {
			base := strings.TrimSuffix(strings.TrimSuffix(path.Base(a), ".py"), ".rb")
			if base == "__main__" {
				base = path.Base(path.Dir(a))
			}
			a = base
		}
		out = append(out, a)
	}
	return out
}

// isPythonExe says whether a command's first word is a Python interpreter.
func isPythonExe(a string) bool {
	return IsPythonName(path.Base(a))
}

var (
	rePumaTitle    = newTitleRe(`^puma(?: \d[\w.]*)? \(|^puma: cluster worker `)
	reResqueTitle  = newTitleRe(`^resque-\d[\w.]*: `)
	reUnicornTitle = newTitleRe(`^unicorn(?:_rails)? (?:master|worker\[\d+\])`)
	// Sidekiq's title: "sidekiq 7.2.0 app [0 of 5 busy]", its PROCTITLES
	// ("sidekiq", the version, the tag, "[N of M busy]") joined by spaces
	// in each heartbeat (lib/sidekiq/launcher.rb, cli.rb in older releases).
	reSidekiqTitle = newTitleRe(`^sidekiq \d[\w.]* .*\[\d+ of \d+ busy\]`)
)

// titleRe is a process title's pattern, anchored at the title's start,
// and the literal every match starts with, which is compared first. The
// titles are read for each crash's live parent on the detection path, and
// nearly every parent's title starts otherwise: a prefix comparison then
// answers, not a run of the regexp engine for each pattern (about 13 µs a
// crash, cold, in a profile of 150 drops of a report).
type titleRe struct {
	prefix string
	re     *regexp.Regexp
}

func newTitleRe(pattern string) titleRe {
	return titleRe{prefix: anchoredPrefix(pattern), re: regexp.MustCompile(pattern)}
}

// MatchString is re.MatchString.
func (t titleRe) MatchString(s string) bool {
	return strings.HasPrefix(s, t.prefix) && t.re.MatchString(s)
}

// anchoredPrefix is the literal a match of pattern must start with, read
// from its parsed and simplified form: `^puma(?: \d+)? \(|^puma: cluster`
// is ^ then an alternation whose every branch starts with "puma" (the
// parser factors the ^ out of the branches, regexp/syntax parse.go,
// "Round 2: Factor out common simple prefixes"). It is "" for a pattern
// that is not anchored by ^ at each branch's start, or whose start is not
// a case-sensitive literal: the regexp then decides alone.
func anchoredPrefix(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl) // as regexp.Compile parses
	if err != nil {
		return ""
	}
	return anchoredStart(re.Simplify())
}

func anchoredStart(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpConcat:
		if len(re.Sub) > 1 && re.Sub[0].Op == syntax.OpBeginText {
			return literalStart(re.Sub[1])
		}
	case syntax.OpCapture:
		return anchoredStart(re.Sub[0])
	case syntax.OpAlternate:
		return commonStart(re.Sub, anchoredStart)
	}
	return ""
}

// literalStart is the literal every match of re starts with, or "".
func literalStart(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return string(re.Rune)
		}
	case syntax.OpConcat, syntax.OpCapture:
		return literalStart(re.Sub[0])
	case syntax.OpAlternate:
		return commonStart(re.Sub, literalStart)
	}
	return ""
}

// commonStart is the longest common start of start(sub) for each sub.
func commonStart(subs []*syntax.Regexp, start func(*syntax.Regexp) string) string {
	common := start(subs[0])
	for _, sub := range subs[1:] {
		s := start(sub)
		n := 0
		for n < len(common) && n < len(s) && common[n] == s[n] {
			n++
		}
		common = common[:n]
	}
	return common
}

// frameworkFromCommand recognises the tool from a live process's command
// line and short name, and names the program as the user would say it.
// Processes rename themselves (setproctitle, Ruby's $0): the title's
// shape is recognised before the words. A tool that forks only in one
// mode (huey -k process, locust --processes, pytest --forked) is named
// only in that mode.
func frameworkFromCommand(name string, argv []string) (fw *Framework, program string) {
	if fw, prog, ok := frameworkFromTitle(strings.Join(argv, " ")); ok {
		return fw, prog
	}
	words := toolWords(argv)
	if len(words) == 0 {
		if name == "uwsgi" || name == "php-fpm" {
			return frameworkPtr(name), name
		}
		return nil, name
	}
	c := newCommandWords(name, words)
	if fw, prog, ok := pythonToolFromCommand(c); ok {
		return fw, prog
	}
	if fw, prog, ok := otherToolFromCommand(c); ok {
		return fw, prog
	}
	return nil, programOf(name, words)
}

// frameworkFromTitle recognises a process title a tool set for itself
// (setproctitle, Ruby's $0): "gunicorn: master [app]", "[celeryd: ...]",
// "puma 6.4.0 (tcp://...) [app]", "php-fpm: master process (...)".
func frameworkFromTitle(joined string) (*Framework, string, bool) {
	switch {
	case strings.HasPrefix(joined, "gunicorn: "):
		return frameworkPtr("gunicorn"), "gunicorn", true
	case strings.HasPrefix(joined, "[celeryd: "):
		return frameworkPtr("celery"), "celery worker", true
	case strings.HasPrefix(joined, "rq:worker:"):
		return frameworkPtr("rq"), "rq worker", true
	case strings.HasPrefix(joined, "uWSGI "):
		return frameworkPtr("uwsgi"), "uwsgi", true
	case rePumaTitle.MatchString(joined):
		return frameworkPtr("puma"), "puma", true
	case strings.HasPrefix(joined, "spring app ") || strings.HasPrefix(joined, "spring server "):
		return frameworkPtr("spring"), "spring", true
	case strings.HasPrefix(joined, "resque-pool-master"):
		return frameworkPtr("resque-pool"), "resque-pool", true
	case reResqueTitle.MatchString(joined):
		return frameworkPtr("resque"), "resque worker", true
	case reUnicornTitle.MatchString(joined):
		return frameworkPtr("unicorn"), "unicorn", true
	case strings.HasPrefix(joined, "php-fpm: "):
		return frameworkPtr("php-fpm"), "php-fpm", true
	case strings.HasPrefix(joined, "solid-queue-supervisor("):
		// lib/solid_queue/processes/procline.rb:
		// "solid-queue-#{kind}(#{VERSION}): ..."; only the supervisor forks.
		return frameworkPtr("solid_queue"), "solid_queue supervisor", true
	case strings.HasPrefix(joined, "Passenger AppPreloader"):
		return frameworkPtr("passenger"), "Passenger", true
	case reSidekiqTitle.MatchString(joined):
		return frameworkPtr("sidekiq"), "sidekiq", true
	}
	return nil, "", false
}

// commandWords is a command line past the interpreter and its flags and
// past wrappers (toolWords): the tool's own words, with helpers to ask for
// its options.
type commandWords struct {
	name  string   // the process's short name
	words []string // the tool's words, first the tool itself
	first string   // the tool: a script's base name, or python -m's module
	top   string   // the first part of a dotted module name
	sub   string   // the subcommand (the second word), "" if none
}

func newCommandWords(name string, words []string) commandWords {
	c := commandWords{name: name, words: words, first: words[0]}
	c.top, _, _ = strings.Cut(c.first, ".") // python -m pkg.mod
	if len(words) > 1 {
		c.sub = words[1]
	}
	return c
}

// has says whether one of ws is among the words after the tool (an
// option may also come as --opt=value).
func (c commandWords) has(ws ...string) bool {
	for _, x := range c.words[1:] {
		for _, w := range ws {
			if x == w || strings.HasPrefix(w, "-") && strings.HasPrefix(x, w+"=") {
				return true
			}
		}
	}
	return false
}

// hasPrefix says whether a word after the tool starts with p.
func (c commandWords) hasPrefix(p string) bool {
	for _, x := range c.words[1:] {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}

// pythonToolFromCommand recognises the Python tools. A tool that forks
// only in one mode (huey -k process, locust --processes, pytest --forked)
// is named only in that mode; ok with a nil Framework names the program
// of a helper or a tool in a mode that does not fork.
func pythonToolFromCommand(c commandWords) (fw *Framework, program string, ok bool) {
	name, words, first, top, sub, has, hasPrefix := c.name, c.words, c.first, c.top, c.sub, c.has, c.hasPrefix
	switch {
	case first == "-c":
		code := strings.Join(words[1:], " ")
		switch {
		case strings.Contains(code, "multiprocessing.spawn import spawn_main"):
			return nil, ProgramSpawnWorker, true
		case strings.Contains(code, "exec(eval(sys.stdin.readline()))"):
			return nil, ProgramExecnetWorker, true
		}
		return nil, name, true
	case first == "gunicorn" || name == "gunicorn":
		return frameworkPtr("gunicorn"), "gunicorn", true
	case first == "uvicorn":
		return frameworkPtr("uvicorn"), "uvicorn", true
	case top == "celery" || name == "celery":
		if has("beat") && !has("worker") {
			return frameworkPtr("celery"), "celery beat", true
		}
		if celeryPoolForksNot(c) {
			// -P solo, threads, gevent, eventlet: no child processes.
			return nil, "celery worker", true
		}
		return frameworkPtr("celery"), "celery worker", true
	case first == "airflow" && sub == "celery":
		return frameworkPtr("celery"), "airflow celery worker", true
	case first == "airflow" || name == "airflow":
		if sub != "" && !strings.HasPrefix(sub, "-") {
			return frameworkPtr("airflow"), "airflow " + sub, true
		}
		return frameworkPtr("airflow"), "airflow", true
	case (top == "rq" || first == "rqworker") && has("worker-pool"):
		return frameworkPtr("rq-pool"), "rq worker-pool", true
	case top == "rq" || first == "rqworker" || name == "rq" || first == "manage" && sub == "rqworker":
		// SpawnWorker without --with-scheduler forks nothing (rq's
		// scheduler is a fork-context Process: rq/scheduler.py).
		if rqSpawns(c) && !has("--with-scheduler") {
			return nil, "rq worker", true
		}
		return frameworkPtr("rq"), "rq worker", true
	case first == "manage" && sub == "rqworker-pool":
		return frameworkPtr("rq-pool"), "manage.py rqworker-pool", true
	case (first == "manage" || first == "django-admin") && sub == "test" && (has("--parallel") || hasPrefix("--parallel=")):
		prog := "manage.py test --parallel"
		if first == "django-admin" {
			prog = "django-admin test --parallel"
		}
		return frameworkPtr("django-test"), prog, true
	case first == "huey_consumer" || first == "manage" && sub == "run_huey":
		prog := "huey_consumer"
		if first == "manage" {
			prog = "manage.py run_huey"
		}
		if has("-k", "--worker-type", "-kprocess") && (has("process") || hasPrefix("--worker-type=process") || has("-kprocess")) {
			return frameworkPtr("huey"), prog, true
		}
		return nil, prog, true
	case first == "pyspark.daemon":
		return frameworkPtr("pyspark"), "pyspark daemon", true
	case top == "pytest" || first == "py.test":
		switch {
		case has("--forked"):
			return frameworkPtr("pytest-forked"), "pytest --forked", true
		case has("--workers", "--tests-per-worker") || hasPrefix("--workers=") || hasPrefix("--tests-per-worker="):
			// pytest-parallel: both options start forked worker processes
			// (one at least), fork being forced on macOS by the plugin.
			return frameworkPtr("pytest-parallel"), "pytest --workers", true
		case has("-n", "--numprocesses", "--dist", "-d") || hasPrefix("-n") && len(words) > 1:
			return frameworkPtr("xdist"), "pytest -n", true
		}
		return nil, "pytest", true
	case first == "locust":
		if has("--processes") {
			return frameworkPtr("locust"), "locust", true
		}
		return nil, "locust", true
	case first == "ansible" || first == "ansible-playbook" || first == "ansible-console":
		return frameworkPtr("ansible"), first, true
	case first == "ansible-pull":
		// It runs ansible-playbook as a new program (lib/ansible/cli/pull.py).
		return nil, first, true
	case first == "uwsgi" || name == "uwsgi":
		return frameworkPtr("uwsgi"), "uwsgi", true
	case first == "dask" && (sub == "worker" || sub == "scheduler"):
		return frameworkPtr("dask"), "dask " + sub, true
	case first == "dask-worker" || first == "dask-scheduler":
		return frameworkPtr("dask"), strings.Replace(first, "-", " ", 1), true
	case top == "dramatiq":
		return frameworkPtr("dramatiq"), "dramatiq", true
	case first == "ipykernel_launcher" || first == "ipykernel" || first == "colab_kernel_launcher":
		return frameworkPtr("jupyter"), "Jupyter kernel", true
	case strings.HasPrefix(first, "jupyter"):
		return frameworkPtr("jupyter"), first, true
	case first == "uv" || first == "uvx" || name == "uv":
		return frameworkPtr("uv"), "uv", true
	}
	return nil, "", false
}

// otherToolFromCommand recognises the tools of Ruby, PHP and Perl.
func otherToolFromCommand(c commandWords) (fw *Framework, program string, ok bool) {
	name, first, sub, has, hasPrefix := c.name, c.first, c.sub, c.has, c.hasPrefix
	switch {
	// Ruby
	case (first == "rails" || first == "rake") && sub == "solid_queue:start":
		return frameworkPtr("solid_queue"), first + " solid_queue:start", true
	case first == "jobs" && (hasValue(c, "--mode", "async") || hasPrefix("--mode=async")):
		// bin/jobs --mode async: workers are threads; nothing forks.
		return nil, "bin/jobs --mode async", true
	case first == "jobs":
		// bin/jobs: Solid Queue's supervisor, fork mode by default
		// (lib/solid_queue/cli.rb, configuration.rb).
		return frameworkPtr("solid_queue"), "bin/jobs", true
	case first == "falcon" && (sub == "serve" && !has("--threaded") || sub == "host" || sub == ""):
		return frameworkPtr("falcon"), "falcon " + sub, true
	case first == "falcon":
		return nil, "falcon " + sub, true
	case first == "sidekiqswarm":
		return frameworkPtr("sidekiqswarm"), "sidekiqswarm", true
	case first == "sidekiq":
		return frameworkPtr("sidekiq"), "sidekiq", true
	case first == "puma" || first == "rails" && (sub == "server" || sub == "s"):
		if first == "rails" {
			return frameworkPtr("puma"), "rails server", true
		}
		return frameworkPtr("puma"), "puma", true
	case first == "spring":
		return frameworkPtr("spring"), "spring", true
	case first == "rails" && strings.HasPrefix(sub, "test"):
		return frameworkPtr("rails-test"), "rails test", true
	case first == "resque-pool":
		return frameworkPtr("resque-pool"), "resque-pool", true
	case first == "rake" && (has("resque:work") || has("resque:workers")):
		return frameworkPtr("resque"), "resque worker", true
	case first == "unicorn" || first == "unicorn_rails":
		return frameworkPtr("unicorn"), first, true
	case first == "parallel_test" || first == "parallel_rspec" || first == "parallel_cucumber" || first == "parallel_spinach" || first == "rake" && hasPrefix("parallel:"):
		return frameworkPtr("parallel_tests"), first, true
	// PHP, Perl
	case first == "php-fpm" || strings.HasPrefix(first, "php-fpm") || name == "php-fpm":
		return frameworkPtr("php-fpm"), "php-fpm", true
	case first == "cpm":
		return frameworkPtr("cpm"), "cpm", true
	}
	return nil, "", false
}

// programOf names an unrecognised parent for a label: the script it runs,
// or its process name.
func programOf(name string, words []string) string {
	if len(words) > 0 && words[0] != "" && !strings.HasPrefix(words[0], "-") {
		if words[0] == "manage" && len(words) > 1 {
			return "manage.py " + words[1]
		}
		if words[0] == "rails" && len(words) > 1 {
			return "rails " + words[1]
		}
		return words[0]
	}
	return name
}

// hasValue says whether option opt has the value v ("--mode async" or
// "--mode=async").
func hasValue(c commandWords, opt, v string) bool {
	for i, x := range c.words[1:] {
		if x == opt+"="+v {
			return true
		}
		if x == opt && i+2 < len(c.words) && c.words[i+2] == v {
			return true
		}
	}
	return false
}

// rqSpawns: the worker class is rq's SpawnWorker (-w / --worker-class).
func rqSpawns(c commandWords) bool {
	for _, opt := range []string{"-w", "--worker-class"} {
		if hasValue(c, opt, "rq.worker.SpawnWorker") || hasValue(c, opt, "rq.SpawnWorker") {
			return true
		}
	}
	return false
}

// celeryPoolForksNot: the worker runs a pool that starts no processes
// (celery worker -P/--pool solo, threads, gevent, eventlet; Celery's
// "Concurrency" guide).
func celeryPoolForksNot(c commandWords) bool {
	for _, pool := range []string{"solo", "threads", "gevent", "eventlet"} {
		if hasValue(c, "-P", pool) || hasValue(c, "--pool", pool) || c.has("-P"+pool) {
			return true
		}
	}
	return false
}
