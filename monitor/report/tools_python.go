package report

// Wording shared by the rows that fall back on the variable: objc4 reads it
// once when the process starts (environ_init) and accepts only YES, so it
// must be in the environment of the process that forks when that process
// starts (docs/macos-facts.md).
const variableRule = "OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES (exactly YES; =1 does nothing) must be in the environment when the interpreter starts: setting it in os.environ, a config file or gunicorn's raw_env/--env is too late."

// variableRuleAny is variableRule for the tools of other runtimes: the same
// rule without Python's ways of getting it wrong.
const variableRuleAny = "OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES (exactly YES; =1 does nothing) must be in the environment when the process starts: setting it from inside the running program is too late."

// pythonTools are the rows for Python's forking tools and for the tools
// wrongly suspected of forking (they exec or spawn).
func pythonTools() []Framework {
	spawn := "Use the spawn start method: multiprocessing.set_start_method('spawn') once in the main module, or multiprocessing.get_context('spawn').Pool(...), and for concurrent.futures pass ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn')). spawn is macOS's default since Python 3.8, so something chose 'fork' explicitly."
	multiprocess := "multiprocess (pathos, p_tqdm, Hugging Face datasets with num_proc) keeps fork as its default start method on macOS, unlike multiprocessing (its context.py: DefaultContext(fork) #FIXME: spawn): call multiprocess.set_start_method('spawn', force=True) once in the main module before any pool is made, or use multiprocess.get_context('spawn').Pool(...). dill, which multiprocess uses, can send functions defined in __main__ to a spawned child."
	django := "Django's test runner forks its --parallel workers when the multiprocessing start method is fork, which something in the project chose (macOS defaults to spawn since Python 3.8, and Django 4.1 and later run --parallel with spawn): remove the set_start_method('fork') (often in manage.py), or run the tests without --parallel."
	lightning := "PyTorch Lightning's ddp_fork and ddp_notebook strategies fork one process per device (the default in interactive environments such as notebooks): use strategy='ddp' from a script (it starts each process as a new program) or strategy='ddp_spawn'."
	celery := "Run the worker with a pool that does not fork: celery -A proj worker -P solo (or -P threads). billiard 4.3.0rc1 and later make prefork spawn its children on macOS (billiard#443), which breaks every prefork task with celery 5.6.3 and older (ValueError in fast_trace_task) until a celery release carries celery#10583; -P solo and -P threads are unaffected."
	rq := "Use rq's spawning worker (rq 2.2 and later): rq worker -w rq.worker.SpawnWorker (django-rq: python manage.py rqworker --worker-class rq.worker.SpawnWorker), and without --with-scheduler: the scheduler is forked (rq/scheduler.py uses get_context('fork')) whatever the worker class, so run it apart (rqscheduler, or one worker that does no scheduling). SpawnWorker runs each job in a new process started with spawn and keeps per-job isolation; SimpleWorker also avoids fork but runs jobs inside the worker, without isolation."
	airflow := "Upgrade Airflow: task execution forks and execs on macOS instead of a bare os.fork() since apache/airflow#64874 (backported to the 3.2 line, apache/airflow#66872), and the triggerer and Dag processor since apache/airflow#69008; with LocalExecutor the fork happens in its spawned worker processes, which run the same task supervisor."
	huey := "huey's process workers always use the fork start method (its consumer hard-codes multiprocessing.get_context('fork')): run the consumer with thread or greenlet workers instead: huey_consumer app.huey -k thread (the default) or -k greenlet (django: manage.py run_huey -k thread)."
	pyspark := "PySpark's worker daemon (pyspark.daemon) forks a Python worker per task (PythonWorkerFactory starts the daemon when spark.python.use.daemon is true, the default except on Windows): set spark.python.use.daemon=false (SparkSession.builder.config('spark.python.use.daemon', 'false') or --conf spark.python.use.daemon=false) so that Spark launches each worker as a new process instead."
	forked := "pytest-forked runs each test in a child forked from the test process, with --forked (on the command line or in addopts) for every test and with @pytest.mark.forked for the marked ones whatever the flags: drop --forked from the command line and addopts, and the forked markers. For process isolation use pytest-xdist's -n, whose workers are new interpreters (not forks)."
	parallel := "pytest-parallel forks its --workers processes on macOS on purpose (it sets multiprocessing's start method to fork on darwin), after starting a Manager process and a thread in the test process, so each worker is forked from a threaded process; with --tests-per-worker it also runs tests in threads in each worker: use pytest-xdist's -n for parallel processes, whose workers are new interpreters (not forks), or run the tests without --workers."
	tornado := "tornado.process.fork_processes (and HTTPServer.start with more than one process) forks the server: run separate copies of the program instead, each calling listen(port, reuse_port=True), as Tornado's guide describes."
	locust := "locust --processes forks its worker processes (gevent.fork): start the master and the workers as separate processes instead: locust --master in one shell and locust --worker in each of the others."
	return []Framework{
		{
			Name: "multiprocessing", Runtime: RuntimePython,
			Recognised: "The fork tracer's fork_via is multiprocessing or concurrent.futures; or the crashed fork child loaded multiprocessing's extension (`_multiprocessing.cpython-*.so`) and no other tool is named. A `ProcessPoolExecutor` is multiprocessing underneath.",
			Fix:        spawn, CFFix: spawn,
			FixSource: "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "multiprocess", Runtime: RuntimePython, Dists: []string{"multiprocess"},
			Recognised: "The fork tracer's fork_via is multiprocess (the fork of multiprocessing that pathos, p_tqdm and Hugging Face datasets' num_proc use; its module name differs, so the multiprocessing row does not match it); or a fork child's venv has multiprocess installed and nothing else names the tool (it forks by default on macOS, where multiprocessing spawns).",
			Fix:        multiprocess, CFFix: multiprocess,
			FixSource: "https://github.com/uqfoundation/multiprocess/blob/master/py3.12/multiprocess/context.py", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "gunicorn", Runtime: RuntimePython, Dists: []string{"gunicorn"},
			Recognised: "Parent command runs `gunicorn` (`.venv/bin/gunicorn`, `python -m gunicorn`, `uv run gunicorn`, with interpreter flags before `-m`), or its title reads `gunicorn: master [...]` (only gunicorn older than 25 sets it on macOS); tracer `gunicorn.arbiter`; the project's `gunicorn.conf.py` (`preload_app`, `workers`) or a Procfile line.",
			Fix:        "gunicorn forks its workers and never execs; it has no spawn mode. Do not preload the app (drop --preload / preload_app = True) so the master touches as little as possible before fork, and start gunicorn with the variable set: " + variableRule + " (gunicorn 25 and later no longer set a process title on macOS, since setproctitle crashed there: gunicorn#3021.)",
			FixSource:  "https://github.com/benoitc/gunicorn/issues/1701", SourceKind: SourceMaintainer, Checked: checked,
		},
		{
			Name: "uvicorn", Runtime: RuntimePython, Dists: []string{"uvicorn"}, NotAffected: true,
			Recognised: "Parent command runs `uvicorn` (`uvicorn app:app --workers 4`, `python -m uvicorn`).",
			Fix:        "Not the tool that forked: uvicorn starts its --workers and its --reload process with multiprocessing's spawn context (uvicorn/_subprocess.py), not fork. Under gunicorn -k uvicorn.workers.UvicornWorker it is gunicorn that forks. Look at what the application itself forks.",
			CFFix:      "Not the tool that forked: uvicorn starts its --workers and its --reload process with multiprocessing's spawn context (uvicorn/_subprocess.py), not fork. Under gunicorn -k uvicorn.workers.UvicornWorker it is gunicorn that forks. Look at what the application itself forks.",
			FixSource:  "https://github.com/encode/uvicorn/blob/master/uvicorn/_subprocess.py", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "celery", Runtime: RuntimePython, Dists: []string{"celery"},
			Recognised: "Parent command runs `celery ... worker` (`python -m celery`, `airflow celery worker`) or its title reads `[celeryd: ...]`; tracer `celery.concurrency.prefork` / `billiard`. The venv's celery and billiard versions add the billiard 4.3.0rc1 note.",
			Fix:        celery, CFFix: celery,
			FixSource: "https://github.com/celery/celery/issues/10683", SourceKind: SourceUserReport, Checked: checked,
		},
		{
			Name: "rq", Runtime: RuntimePython, Dists: []string{"rq"},
			Recognised: "Parent command runs `rq worker`, `rqworker`, `python -m rq.cli worker` or django-rq's `manage.py rqworker` (with `-w rq.worker.SpawnWorker` and no `--with-scheduler` it forks nothing and is not named), or its title reads `rq:worker:...`; tracer `rq.worker` / `rq.scheduler`. The venv's rq version says whether SpawnWorker exists.",
			Fix:        rq, CFFix: rq,
			FixSource: "https://github.com/rq/rq/issues/2235", SourceKind: SourceMaintainer, Checked: checked,
		},
		{
			Name: "rq-pool", Runtime: RuntimePython, Dists: []string{"rq"},
			Recognised: "Parent command runs `rq worker-pool` or django-rq's `manage.py rqworker-pool`; tracer `rq.worker_pool`.",
			Fix:        "rq's worker pool always forks its workers (rq/worker_pool.py uses get_context('fork')), so no start-method setting helps: run separate rq worker -w rq.worker.SpawnWorker processes instead (rq 2.2 and later), e.g. one per process-manager entry.",
			CFFix:      "rq's worker pool always forks its workers (rq/worker_pool.py uses get_context('fork')), so no start-method setting helps: run separate rq worker -w rq.worker.SpawnWorker processes instead (rq 2.2 and later), e.g. one per process-manager entry.",
			FixSource:  "https://github.com/rq/rq/blob/master/rq/worker_pool.py", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "huey", Runtime: RuntimePython, Dists: []string{"huey"},
			Recognised: "Parent command runs `huey_consumer` (or `manage.py run_huey`) with process workers (`-k process`, `--worker-type process`); tracer `huey.consumer`; the project's Django settings with `'worker_type': 'process'` in `HUEY`.",
			Fix:        huey, CFFix: huey,
			FixSource: "https://huey.readthedocs.io/en/latest/consumer.html#worker-types", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "pyspark", Runtime: RuntimePython, Dists: []string{"pyspark"},
			Recognised: "Parent command is `python -m pyspark.daemon` (started by Spark's executor); tracer `pyspark.daemon`.",
			Fix:        pyspark, CFFix: pyspark,
			FixSource: "https://github.com/apache/spark/blob/master/core/src/main/scala/org/apache/spark/api/python/PythonWorkerFactory.scala", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "pytest-forked", Runtime: RuntimePython, Dists: []string{"pytest-forked", "pytest_forked"},
			Recognised: "Parent command runs `pytest` (`py.test`, `python -m pytest`) with `--forked`; tracer `pytest_forked`; the project's pytest configuration with `--forked` in `addopts` (`pytest.ini`, `pyproject.toml`, `setup.cfg`, `tox.ini`) or tests marked `@pytest.mark.forked`.",
			Fix:        forked, CFFix: forked,
			FixSource: "https://github.com/pytest-dev/pytest-forked#readme", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "pytest-parallel", Runtime: RuntimePython, Dists: []string{"pytest-parallel", "pytest_parallel"},
			Recognised: "Parent command runs `pytest` (`py.test`, `python -m pytest`) with `--workers` or `--tests-per-worker` (pytest-parallel's options); tracer `pytest_parallel`; the project's pytest configuration with `--workers` or `--tests-per-worker` in `addopts`.",
			Fix:        parallel, CFFix: parallel,
			FixSource: "https://github.com/kevlened/pytest-parallel/blob/master/pytest_parallel/__init__.py", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "xdist", Runtime: RuntimePython, Dists: []string{"pytest-xdist", "pytest_xdist"}, NotAffected: true,
			Recognised: "Parent command runs `pytest -n N` (`--numprocesses`, `--dist`), or is an xdist worker (execnet's `python -c \"import sys;exec(eval(sys.stdin.readline()))\"`) whose parent runs it.",
			Fix:        "Not the tool that forked: pytest-xdist starts its workers as new interpreters through execnet (no fork without exec). The fork came from the code under test: look at what the test forks (multiprocessing with the fork start method, os.fork).",
			CFFix:      "Not the tool that forked: pytest-xdist starts its workers as new interpreters through execnet (no fork without exec). The fork came from the code under test: look at what the test forks (multiprocessing with the fork start method, os.fork).",
			FixSource:  "https://github.com/pytest-dev/pytest-xdist/blob/master/src/xdist/workermanage.py", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "tornado", Runtime: RuntimePython,
			Recognised: "Only the fork tracer can say it (`tornado.process`): the parent's command line is the application's own script, and Tornado is installed with Jupyter in many venvs, so neither proves it.",
			Fix:        tornado, CFFix: tornado,
			FixSource: "https://www.tornadoweb.org/en/stable/guide/running.html#processes-and-ports", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "locust", Runtime: RuntimePython, Dists: []string{"locust"},
			Recognised: "Parent command runs `locust` with `--processes`; tracer `locust`; the project's `locust.conf` with `processes`, or `LOCUST_PROCESSES` in a Procfile or Compose line.",
			Fix:        locust, CFFix: locust,
			FixSource: "https://docs.locust.io/en/stable/running-distributed.html", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "ansible", Runtime: RuntimePython, Dists: []string{"ansible-core", "ansible_core", "ansible", "ansible-base"},
			Recognised: "Parent command runs `ansible`, `ansible-playbook` or `ansible-console` (the commands that fork workers on the controller; `ansible-pull` runs `ansible-playbook` as a new program, and `ansible-lint`, `ansible-navigator` and `ansible-runner` start ansible-playbook as a new process: none of them is it); or a compiled module loaded from pipx's or `uv tool`'s ansible environment.",
			Fix:        "Ansible forks its workers on the controller and documents no spawn option; its FAQ (Running on macOS as a control node) gives the workaround: export OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES in the shell before running ansible-playbook. " + variableRuleAny,
			FixSource:  "https://docs.ansible.com/ansible/latest/reference_appendices/faq.html#running-on-macos-as-a-control-node", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "uwsgi", Runtime: RuntimePython, Dists: []string{"uwsgi", "pyuwsgi"},
			Recognised: "The crashed process or its parent is `uwsgi` (it embeds Python; titles `uWSGI master`, `uWSGI worker N`), or its command line runs `uwsgi`; or the report loaded pyuwsgi's compiled module.",
			Fix:        "No macOS-specific fix is documented by uWSGI. Its documented way to load the app after fork instead of in the master is lazy-apps = true; otherwise the general advice applies.",
			FixSource:  "https://uwsgi-docs.readthedocs.io/en/latest/articles/TheArtOfGracefulReloading.html#preforking-vs-lazy-apps-vs-lazy", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "airflow", Runtime: RuntimePython, Dists: []string{"apache-airflow", "apache_airflow", "apache-airflow-core", "apache_airflow_core"},
			Recognised: "Parent command runs `airflow` (`airflow scheduler`, `airflow standalone`, ...), or the parent is a multiprocessing spawn worker (`-c \"from multiprocessing.spawn import spawn_main...\"`, Airflow 3's LocalExecutor) whose parent runs `airflow`; `airflow celery worker` is celery's.",
			Fix:        airflow, CFFix: airflow,
			FixSource: "https://github.com/apache/airflow/pull/64874", SourceKind: SourceMaintainer, Checked: checked,
		},
		{
			Name: "dask", Runtime: RuntimePython, Dists: []string{"distributed"}, NotAffected: true,
			Recognised: "Parent command runs `dask worker`, `dask-worker`, `dask scheduler` or `dask-scheduler`.",
			Fix:        "Not the tool that forked: dask's nanny starts worker processes with the spawn method by default (distributed.worker.multiprocessing-method: spawn in distributed.yaml). Look at what the task code forks, or whether that setting was changed to fork.",
			CFFix:      "Not the tool that forked: dask's nanny starts worker processes with the spawn method by default (distributed.worker.multiprocessing-method: spawn in distributed.yaml). Look at what the task code forks, or whether that setting was changed to fork.",
			FixSource:  "https://github.com/dask/distributed/blob/main/distributed/distributed.yaml", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "dramatiq", Runtime: RuntimePython, Dists: []string{"dramatiq"}, NotAffected: true,
			Recognised: "Parent command runs `dramatiq` (`python -m dramatiq`).",
			Fix:        "Not the tool that forked: dramatiq starts its worker processes with multiprocessing's default start method, which is spawn on macOS (dramatiq --help: \"spawn on Windows and macOS\"). Look at what the actors fork, or whether the program set the fork start method.",
			CFFix:      "Not the tool that forked: dramatiq starts its worker processes with multiprocessing's default start method, which is spawn on macOS (dramatiq --help: \"spawn on Windows and macOS\"). Look at what the actors fork, or whether the program set the fork start method.",
			FixSource:  "https://github.com/Bogdanp/dramatiq/blob/master/dramatiq/cli.py", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "jupyter", Runtime: RuntimePython, NotAffected: true,
			Recognised: "Parent command runs `ipykernel_launcher` / `ipykernel` (the kernel) or `jupyter-*` (the server).",
			Fix:        "Not the tool that forked: Jupyter starts kernels as new processes with exec. A fork child of a kernel comes from the notebook's own code (multiprocessing with the fork start method, os.fork). Use multiprocessing.get_context('spawn') there, but spawn cannot start a function defined in the notebook itself: move the function into a .py module and import it.",
			CFFix:      "Not the tool that forked: Jupyter starts kernels as new processes with exec. A fork child of a kernel comes from the notebook's own code (multiprocessing with the fork start method, os.fork). Use multiprocessing.get_context('spawn') there, but spawn cannot start a function defined in the notebook itself: move the function into a .py module and import it.",
			FixSource:  "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "django-test", Runtime: RuntimePython, Dists: []string{"django"},
			Recognised: "Parent command runs `manage.py test` (or `django-admin test`) with `--parallel`.",
			Fix:        django, CFFix: django,
			FixSource: "https://github.com/django/django/blob/main/django/test/runner.py", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "lightning-ddp-fork", Runtime: RuntimePython,
			Recognised: "Only the fork tracer can say it (fork_via in `lightning` or `pytorch_lightning`): the parent's command line is the training script, and in a notebook the kernel.",
			Fix:        lightning, CFFix: lightning,
			FixSource: "https://lightning.ai/docs/pytorch/stable/accelerators/gpu_intermediate.html", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "uv", Runtime: RuntimePython, NotAffected: true,
			Recognised: "Parent is `uv` (`uv run`, `uv tool run`, `uvx`) running nothing Forkwatch recognises; `uv run gunicorn ...` is gunicorn's.",
			Fix:        "Not the tool that forked: uv run starts Python as a new process (exec). Look at what the Python program itself forks.",
			CFFix:      "Not the tool that forked: uv run starts Python as a new process (exec). Look at what the Python program itself forks.",
			FixSource:  "https://docs.astral.sh/uv/concepts/projects/run/", SourceKind: SourceDocs, Checked: checked,
		},
	}
}
