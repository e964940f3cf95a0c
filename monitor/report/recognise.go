package report

import (
	"path"
	"regexp"
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
	return rePythonName.MatchString(path.Base(a))
}

var (
	rePumaTitle    = regexp.MustCompile(`^puma(?: \d[\w.]*)? \(|^puma: cluster worker `)
	reResqueTitle  = regexp.MustCompile(`^resque-\d[\w.]*: `)
	reUnicornTitle = regexp.MustCompile(`^unicorn(?:_rails)? (?:master|worker\[\d+\])`)
)

// frameworkFromCommand recognises the tool from a live process's command
// line and short name, and names the program as the user would say it.
// Processes rename themselves (setproctitle, Ruby's $0): the title's
// shape is recognised before the words. A tool that forks only in one
// mode (huey -k process, locust --processes, pytest --forked) is named
// only in that mode.
func frameworkFromCommand(name string, argv []string) (fw *Framework, program string) {
	joined := strings.Join(argv, " ")
	switch {
	case strings.HasPrefix(joined, "gunicorn: "):
		return frameworkPtr("gunicorn"), "gunicorn"
	case strings.HasPrefix(joined, "[celeryd: "):
		return frameworkPtr("celery"), "celery worker"
	case strings.HasPrefix(joined, "rq:worker:"):
		return frameworkPtr("rq"), "rq worker"
	case strings.HasPrefix(joined, "uWSGI "):
		return frameworkPtr("uwsgi"), "uwsgi"
	case rePumaTitle.MatchString(joined):
		return frameworkPtr("puma"), "puma"
	case strings.HasPrefix(joined, "spring app ") || strings.HasPrefix(joined, "spring server "):
		return frameworkPtr("spring"), "spring"
	case strings.HasPrefix(joined, "resque-pool-master"):
		return frameworkPtr("resque-pool"), "resque-pool"
	case reResqueTitle.MatchString(joined):
		return frameworkPtr("resque"), "resque worker"
	case reUnicornTitle.MatchString(joined):
		return frameworkPtr("unicorn"), "unicorn"
	case strings.HasPrefix(joined, "php-fpm: "):
		return frameworkPtr("php-fpm"), "php-fpm"
	}
	words := toolWords(argv)
	if len(words) == 0 {
		if name == "uwsgi" || name == "php-fpm" {
			return frameworkPtr(name), name
		}
		return nil, name
	}
	first := words[0]
	top, _, _ := strings.Cut(first, ".") // python -m pkg.mod
	has := func(ws ...string) bool {
		for _, x := range words[1:] {
			for _, w := range ws {
				if x == w || strings.HasPrefix(w, "-") && strings.HasPrefix(x, w+"=") {
					return true
				}
			}
		}
		return false
	}
	hasPrefix := func(p string) bool {
		for _, x := range words[1:] {
			if strings.HasPrefix(x, p) {
				return true
			}
		}
		return false
	}
	sub := ""
	if len(words) > 1 {
		sub = words[1]
	}
	switch {
	case first == "-c":
		code := strings.Join(words[1:], " ")
		switch {
		case strings.Contains(code, "multiprocessing.spawn import spawn_main"):
			return nil, ProgramSpawnWorker
		case strings.Contains(code, "exec(eval(sys.stdin.readline()))"):
			return nil, ProgramExecnetWorker
		}
		return nil, name
	case first == "gunicorn" || name == "gunicorn":
		return frameworkPtr("gunicorn"), "gunicorn"
	case first == "uvicorn":
		return frameworkPtr("uvicorn"), "uvicorn"
	case top == "celery" || name == "celery":
		if has("beat") && !has("worker") {
			return frameworkPtr("celery"), "celery beat"
		}
		return frameworkPtr("celery"), "celery worker"
	case first == "airflow" && sub == "celery":
		return frameworkPtr("celery"), "airflow celery worker"
	case first == "airflow" || name == "airflow":
		if sub != "" && !strings.HasPrefix(sub, "-") {
			return frameworkPtr("airflow"), "airflow " + sub
		}
		return frameworkPtr("airflow"), "airflow"
	case (top == "rq" || first == "rqworker") && has("worker-pool"):
		return frameworkPtr("rq-pool"), "rq worker-pool"
	case top == "rq" || first == "rqworker" || name == "rq":
		return frameworkPtr("rq"), "rq worker"
	case first == "manage" && sub == "rqworker-pool":
		return frameworkPtr("rq-pool"), "manage.py rqworker-pool"
	case first == "manage" && sub == "rqworker":
		return frameworkPtr("rq"), "rq worker"
	case first == "huey_consumer" || first == "manage" && sub == "run_huey":
		prog := "huey_consumer"
		if first == "manage" {
			prog = "manage.py run_huey"
		}
		if has("-k", "--worker-type", "-kprocess") && (has("process") || hasPrefix("--worker-type=process") || has("-kprocess")) {
			return frameworkPtr("huey"), prog
		}
		return nil, prog
	case first == "pyspark.daemon":
		return frameworkPtr("pyspark"), "pyspark daemon"
	case top == "pytest" || first == "py.test":
		switch {
		case has("--forked"):
			return frameworkPtr("pytest-forked"), "pytest --forked"
		case has("-n", "--numprocesses", "--dist", "-d") || hasPrefix("-n") && len(words) > 1:
			return frameworkPtr("xdist"), "pytest -n"
		}
		return nil, "pytest"
	case first == "locust":
		if has("--processes") {
			return frameworkPtr("locust"), "locust"
		}
		return nil, "locust"
	case first == "ansible" || first == "ansible-playbook" || first == "ansible-pull" || first == "ansible-console":
		return frameworkPtr("ansible"), first
	case first == "uwsgi" || name == "uwsgi":
		return frameworkPtr("uwsgi"), "uwsgi"
	case first == "dask" && (sub == "worker" || sub == "scheduler"):
		return frameworkPtr("dask"), "dask " + sub
	case first == "dask-worker" || first == "dask-scheduler":
		return frameworkPtr("dask"), strings.Replace(first, "-", " ", 1)
	case top == "dramatiq":
		return frameworkPtr("dramatiq"), "dramatiq"
	case first == "ipykernel_launcher" || first == "ipykernel" || first == "colab_kernel_launcher":
		return frameworkPtr("jupyter"), "Jupyter kernel"
	case strings.HasPrefix(first, "jupyter"):
		return frameworkPtr("jupyter"), first
	case first == "uv" || first == "uvx" || name == "uv":
		return frameworkPtr("uv"), "uv"
	// Ruby
	case first == "puma" || first == "rails" && (sub == "server" || sub == "s"):
		if first == "rails" {
			return frameworkPtr("puma"), "rails server"
		}
		return frameworkPtr("puma"), "puma"
	case first == "spring":
		return frameworkPtr("spring"), "spring"
	case first == "rails" && strings.HasPrefix(sub, "test"):
		return frameworkPtr("rails-test"), "rails test"
	case first == "resque-pool":
		return frameworkPtr("resque-pool"), "resque-pool"
	case first == "rake" && (has("resque:work") || has("resque:workers")):
		return frameworkPtr("resque"), "resque worker"
	case first == "unicorn" || first == "unicorn_rails":
		return frameworkPtr("unicorn"), first
	case first == "parallel_test" || first == "parallel_rspec" || first == "parallel_cucumber" || first == "parallel_spinach" || first == "rake" && hasPrefix("parallel:"):
		return frameworkPtr("parallel_tests"), first
	// PHP, Perl
	case first == "php-fpm" || strings.HasPrefix(first, "php-fpm") || name == "php-fpm":
		return frameworkPtr("php-fpm"), "php-fpm"
	case first == "cpm":
		return frameworkPtr("cpm"), "cpm"
	}
	return nil, programOf(name, words)
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
