# Forks in the ways the first-risky-fork judgement tells apart, for
# TestRiskyForks, and prints the children's pids per way as one JSON line:
#   plain:    no thread started, fork, child exits
#   threaded: a thread started, then 20 forks from one line, children exit
#   exec:     a thread running, fork, child execs /bin/true (os.execv)
#   c_fork:   a thread running, subprocess with a preexec_fn (a fork made in
#             C that runs Python in the child), which then execs
# and, on Linux, record_fds (descriptors open on the record file) and
# mapped ([1] when the record file is mapped).
import json
import os
import site
import subprocess
import sys
import threading
import time

site.addsitedir(sys.argv[1])
out = {}


def fork_exit():
    pid = os.fork()  # SITE:fork_exit
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


out["plain"] = [fork_exit()]
if sys.argv[2:] == ["plain-only"]:
    sys.stdout.write(json.dumps(out) + "\n")
    sys.exit(0)
stop = threading.Event()
t = threading.Thread(target=stop.wait, name="poller")
t.start()
out["threaded"] = [fork_exit() for _ in range(20)]
pid = os.fork()
if pid == 0:
    os.execv("/bin/true", ["true"])
os.waitpid(pid, 0)
out["exec"] = [pid]
p = subprocess.Popen(["/bin/true"], preexec_fn=lambda: None)
p.wait()
out["c_fork"] = [p.pid]
stop.set()
t.join()
# Linux only: descriptors open on the record file (the tracer keeps none),
# and whether it is mapped (it is, once the process has forked).
if os.path.isdir("/proc/self/fd"):
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd).endswith("/records"):
                fds.append(int(fd))
        except OSError:
            pass
    out["record_fds"] = fds
    with open("/proc/self/maps") as f:
        out["mapped"] = [int("/records" in f.read())]
sys.stdout.write(json.dumps(out) + "\n")
