package report

import (
	"path"
	"strings"
)

// Framework is a tool that forks Python processes, how Forkwatch recognises
// it, and the fix in that tool's own terms. Every Fix is taken from the
// tool's documentation or bug tracker (FixSource); docs/fixes.md holds the
// same rows and TestFixesDoc keeps the two in step. Where a tool documents
// no fix, Fix says so and the general advice stands.
type Framework struct {
	Name      string // Report.Framework
	Fix       string
	FixSource string
	// NotAffected: the tool starts its processes with exec (or spawn), so
	// it is not the one that forked; Fix then says where to look instead.
	NotAffected bool
}

// Frameworks lists the tools Forkwatch recognises, in the order of
// docs/fixes.md.
func Frameworks() []Framework {
	return []Framework{
		{
			Name:      "multiprocessing",
			Fix:       "Use the spawn start method: multiprocessing.set_start_method('spawn') once in the main module, or multiprocessing.get_context('spawn').Pool(...), and for concurrent.futures pass ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn')). spawn is macOS's default since Python 3.8, so something chose 'fork' explicitly.",
			FixSource: "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
		},
		{
			Name:      "gunicorn",
			Fix:       "gunicorn forks its workers and never execs; it has no spawn mode. Do not preload the app (drop --preload / preload_app = True) so the master touches as little as possible before fork, and start gunicorn with OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES in its environment (the workaround in the gunicorn issue).",
			FixSource: "https://github.com/benoitc/gunicorn/issues/1701",
		},
		{
			Name:      "celery",
			Fix:       "Run the worker without the prefork pool: celery -A proj worker --pool=solo (or --pool=threads); billiard 4.3.0rc1 switched its macOS default to spawn, which the reporters say resolves the crash (celery#9894).",
			FixSource: "https://github.com/celery/celery/issues/7007",
		},
		{
			Name:      "rq",
			Fix:       "Use a worker that does not fork per job: rq worker --worker-class rq.SimpleWorker (django-rq: RQ = {'WORKER_CLASS': 'rq.SimpleWorker'}).",
			FixSource: "https://github.com/rq/django-rq/issues/542",
		},
		{
			Name:      "ansible",
			Fix:       "Ansible forks its workers on the controller and documents no spawn option: export OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES in the shell before running ansible-playbook.",
			FixSource: "https://github.com/ansible/ansible/issues/32499",
		},
		{
			Name:      "uwsgi",
			Fix:       "No macOS-specific fix is documented by uWSGI. Its documented way to load the app after fork instead of in the master is lazy-apps = true; otherwise the general advice applies.",
			FixSource: "https://uwsgi-docs.readthedocs.io/en/latest/articles/TheArtOfGracefulReloading.html#preforking-vs-lazy-apps-vs-lazy",
		},
		{
			Name:      "airflow",
			Fix:       "Upgrade Airflow: task execution (apache/airflow#64874) and the triggerer and Dag processor (apache/airflow#69008) now fork and exec on macOS instead of a bare os.fork().",
			FixSource: "https://github.com/apache/airflow/pull/64874",
		},
		{
			Name:        "jupyter",
			Fix:         "Not the tool that forked: Jupyter starts kernels as new processes with exec. A fork child of a kernel comes from the notebook's own code (multiprocessing with the fork start method, os.fork): use multiprocessing.get_context('spawn') there.",
			FixSource:   "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
			NotAffected: true,
		},
		{
			Name:        "uv",
			Fix:         "Not the tool that forked: uv run starts Python as a new process (exec). Look at what the Python program itself forks.",
			FixSource:   "",
			NotAffected: true,
		},
	}
}

// FrameworkByName returns the row for a Report.Framework value.
func FrameworkByName(name string) (Framework, bool) {
	for _, fw := range Frameworks() {
		if fw.Name == name {
			return fw, true
		}
	}
	return Framework{}, false
}

// frameworkFromImages recognises a tool from the report alone: the crashed
// executable (uwsgi embeds Python) or an image loaded from the tool's own
// install (Homebrew's Cellar/ansible, pipx's venvs/celery, a site-packages
// of the tool's package with a compiled extension). Redacted paths say
// nothing. Returns nil when the report names no tool.
func frameworkFromImages(exePath, process string, images []string) *Framework {
	if path.Base(exePath) == "uwsgi" || process == "uwsgi" {
		return frameworkPtr("uwsgi")
	}
	for _, im := range images {
		for _, tool := range []struct{ needle, name string }{
			{"/Cellar/ansible/", "ansible"}, {"/venvs/ansible/", "ansible"}, {"/site-packages/ansible/", "ansible"},
			{"/Cellar/celery/", "celery"}, {"/venvs/celery/", "celery"}, {"/site-packages/billiard/", "celery"},
			{"/Cellar/apache-airflow/", "airflow"}, {"/venvs/apache-airflow/", "airflow"}, {"/site-packages/airflow/", "airflow"},
			{"/venvs/gunicorn/", "gunicorn"}, {"/site-packages/gunicorn/", "gunicorn"},
			{"/site-packages/uwsgi", "uwsgi"},
		} {
			if strings.Contains(im, tool.needle) {
				return frameworkPtr(tool.name)
			}
		}
	}
	return nil
}

func frameworkPtr(name string) *Framework {
	fw, ok := FrameworkByName(name)
	if !ok {
		return nil
	}
	return &fw
}

// frameworkFromCommand recognises the tool from the live parent's command
// line and name. argv[0] may be the interpreter ("python3 .venv/bin/gunicorn
// app:app", "python -m celery worker") or the tool's own script; gunicorn and
// others also rewrite their title ("gunicorn: master [app]").
func frameworkFromCommand(name string, argv []string) (fw *Framework, program string) {
	words := toolWords(argv)
	first := ""
	if len(words) > 0 {
		first = words[0]
	}
	has := func(w string) bool {
		for _, x := range words {
			if x == w {
				return true
			}
		}
		return false
	}
	joined := strings.Join(argv, " ")
	switch {
	case first == "gunicorn" || strings.HasPrefix(joined, "gunicorn:") || name == "gunicorn":
		return frameworkPtr("gunicorn"), "gunicorn"
	case first == "celery" || strings.HasPrefix(joined, "[celeryd:") || name == "celery":
		if has("beat") {
			return frameworkPtr("celery"), "celery beat"
		}
		return frameworkPtr("celery"), "celery worker"
	case first == "rq" || first == "rqworker" || has("rqworker") || name == "rq":
		return frameworkPtr("rq"), "rq worker"
	case strings.HasPrefix(first, "ansible"):
		return frameworkPtr("ansible"), first
	case first == "uwsgi" || name == "uwsgi":
		return frameworkPtr("uwsgi"), "uwsgi"
	case first == "airflow" || name == "airflow":
		if len(words) > 1 {
			return frameworkPtr("airflow"), "airflow " + words[1]
		}
		return frameworkPtr("airflow"), "airflow"
	case first == "ipykernel_launcher" || first == "ipykernel" || first == "colab_kernel_launcher":
		return frameworkPtr("jupyter"), "Jupyter kernel"
	case strings.HasPrefix(first, "jupyter"):
		return frameworkPtr("jupyter"), first
	case first == "uv" || name == "uv":
		return frameworkPtr("uv"), "uv"
	}
	return nil, programOf(name, words)
}

// toolWords drops the interpreter and its options from a command line so
// that the tool comes first: "python3 -X dev -m celery -A shop worker" →
// ["celery", "-A", "shop", "worker"]; ".venv/bin/gunicorn app:app" →
// ["gunicorn", "app:app"]. Script paths become their base names.
func toolWords(argv []string) []string {
	i := 0
	if len(argv) > 0 && isPythonExe(argv[0]) {
		i = 1
		for i < len(argv) {
			a := argv[i]
			if a == "-m" && i+1 < len(argv) {
				i++
				break
			}
			if strings.HasPrefix(a, "-m") && len(a) > 2 {
				argv = append([]string{a[2:]}, argv[i+1:]...)
				i = 0
				break
			}
			if a == "-X" || a == "-W" || a == "-c" {
				i += 2
				continue
			}
			if strings.HasPrefix(a, "-") {
				i++
				continue
			}
			break
		}
	}
	if i >= len(argv) {
		return nil
	}
	out := make([]string, 0, len(argv)-i)
	for j, a := range argv[i:] {
		if j == 0 {
			a = strings.TrimSuffix(path.Base(a), ".py")
			if a == "__main__" {
				a = path.Base(path.Dir(argv[i]))
			}
		}
		out = append(out, a)
	}
	return out
}

// isPythonExe says whether a command's first word is a Python interpreter.
func isPythonExe(a string) bool {
	return rePythonName.MatchString(path.Base(a))
}

// programOf names an unrecognised parent for a label: the script it runs,
// or its process name.
func programOf(name string, words []string) string {
	if len(words) > 0 && words[0] != "" && !strings.HasPrefix(words[0], "-") {
		if words[0] == "manage" && len(words) > 1 {
			return "manage.py " + words[1]
		}
		return words[0]
	}
	return name
}
