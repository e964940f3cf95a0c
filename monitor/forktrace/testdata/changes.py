# Forks while what a record says changes between forks, for
# TestRecordsFollowChanges. The tracer recognises a fork whose stack (code
# and line of each frame), process, thread, thread count and argv[0] it has
# seen before and reuses that fork's record, so each step below forks from
# one and the same line (the same stack) with one thing changed since the
# last fork, and each fork must still get a record that says what it was.
# Prints one JSON line: for each fork, the child's pid and what its record
# must say (the innermost frame's file, line and function, the stack's
# depth, the working folder, argv[0], the thread, the thread count, the
# parent).
import json
import os
import site
import sys
import threading
import warnings

site.addsitedir(sys.argv[1])
warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: forking with a thread running
here = os.path.dirname(os.path.abspath(__file__))
out = []
lock = threading.Lock()


def depth(f):
    n = 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def want(tag):
    # The caller's frame is the fork site: os.fork is called on its line.
    f = sys._getframe(1)
    return {
        "tag": tag,
        "file": f.f_code.co_filename,
        "line": f.f_lineno,
        "function": f.f_code.co_name,
        "depth": depth(f),
        "cwd": os.getcwd(),
        "argv0": sys.argv[0] if sys.argv else "",
        "thread": threading.current_thread().name,
        "threads": threading.active_count(),
        "ppid": os.getpid(),
    }


def record(w, pid):
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    w["pid"] = pid
    with lock:
        out.append(w)


def site_a(tag):
    w = want(tag); record(w, os.fork())  # noqa: E702 (one line: the fork site)


def site_b(tag):
    w = want(tag); record(w, os.fork())  # noqa: E702


def via_c(tag):
    site_a(tag)  # site_a, from another caller


def deep(n, tag):
    if n:
        return deep(n - 1, tag)
    w = want(tag); record(w, os.fork())  # noqa: E702


stop = threading.Event()
sleeper = threading.Thread(target=stop.wait, name="sleeper")


def forker(name):
    t = threading.Thread(target=site_a, args=(name,), name=name)
    t.start()
    t.join()


def start_sleeper():
    sleeper.start()


def stop_sleeper():
    stop.set()
    sleeper.join()


# Each step changes one thing, then forks from the one line below.
steps = [
    ("a0", None),
    ("a1", None),
    ("chdir", lambda: os.chdir(here)),
    ("chdir-back", lambda: os.chdir(os.path.dirname(here))),
    ("argv0", lambda: sys.argv.__setitem__(0, "renamed")),
    ("argv-list", lambda: setattr(sys, "argv", ["other"])),
    ("no-argv", lambda: setattr(sys, "argv", [])),
    ("argv-back", lambda: setattr(sys, "argv", ["x"])),
    ("threaded-1", start_sleeper),
    ("threaded-2", None),
    ("unthreaded", stop_sleeper),
    ("a2", None),
]
for tag, change in steps:
    if change is not None:
        change()
    site_a(tag)
# Two sites taking turns; one site from two callers; one site at several
# depths, past MAX_FRAMES (48) too.
for i in range(3):
    for f in (site_a, site_b, via_c):
        f("%s-%d" % (f.__name__, i))
for n in (3, 5, 3, 60, 70, 60):
    deep(n, "deep%d" % n)
# One function forking from two lines, called from one line.
def two_lines(tag):
    if tag.endswith("x"):
        w = want(tag); record(w, os.fork())  # noqa: E702
    else:
        w = want(tag); record(w, os.fork())  # noqa: E702


for tag in ("lines-x", "lines-y", "lines-x"):
    two_lines(tag)
# Stacks of frames short enough to keep all MAX_FRAMES (48) in a record,
# from one line: 47, 48 and 49 deep (the last one cut).
short = {}
exec(compile("def f(n, want, record, os, tag):\n    if n:\n        return f(n - 1, want, record, os, tag)\n    w = want(tag); record(w, os.fork())\n", "x", "exec"), short)
for n in (45, 46, 47, 46, 45):
    short["f"](n, want, record, os, "short-%d" % (n + 2))
# Two functions with equal code objects (same name, line and bytecode) in
# two files: code objects compare equal whatever their file.
src = "def twin(want, record, os, tag):\n    w = want(tag); record(w, os.fork())\n"
for name in ("twin_a.py", "twin_b.py", "twin_a.py"):
    ns = {}
    exec(compile(src, os.path.join(here, name), "exec"), ns)
    ns["twin"](want, record, os, name)
# The same stack in two threads (a thread of each name forks).
for name in ("forker-1", "forker-2", "forker-1"):
    forker(name)


# A child forks from the line its parent forked from last: its records
# name it as the parent.
def pair():
    for i in range(2):
        site_a("pair-%d" % i)
        if i == 0:
            r, w = os.pipe()
            pid = os.fork()
            if pid:
                os.close(w)
                data = b""
                while True:
                    chunk = os.read(r, 65536)
                    if not chunk:
                        break
                    data += chunk
                os.waitpid(pid, 0)
                out.extend(json.loads(data.decode()))
                return
            os.close(r)
            out[:] = []
    os.write(w, json.dumps(out).encode())
    os._exit(0)


pair()
site_a("after-child")
sys.stdout.write(json.dumps(out) + "\n")
