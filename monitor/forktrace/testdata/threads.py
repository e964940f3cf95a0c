# Threads forking at once, each from its own line, for
# TestThreadsForkAtOnce: with the interpreter switching threads as often as
# it can, each fork's record must still name its own line and thread.
# Prints one JSON line: for each fork, the child's pid, the line, the
# function and the thread.
import json
import os
import site
import sys
import threading
import warnings

site.addsitedir(sys.argv[1])
warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: forking with threads running
sys.setswitchinterval(1e-6)
out = []
lock = threading.Lock()


def done(pid, line, function):
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    with lock:
        out.append({"pid": pid, "line": line, "function": function, "thread": threading.current_thread().name})


def site_0():
    done(os.fork(), sys._getframe().f_lineno, "site_0")


def site_1():
    done(os.fork(), sys._getframe().f_lineno, "site_1")


def site_2():
    done(os.fork(), sys._getframe().f_lineno, "site_2")


def site_3():
    done(os.fork(), sys._getframe().f_lineno, "site_3")


def run(f):
    for _ in range(25):
        f()


threads = [threading.Thread(target=run, args=(f,), name="t-" + f.__name__) for f in (site_0, site_1, site_2, site_3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sys.stdout.write(json.dumps(out) + "\n")
