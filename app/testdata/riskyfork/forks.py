# The program of TestRiskyForkWarningEndToEnd (issue 30), run in a traced
# venv. argv[1] says what it does:
#   threaded:  starts a thread, then forks 100 times without exec (each
#              child exits at once); prints the time of the first fork
#   plain:     the same 100 forks without starting a thread
#   exec:      starts a thread, then forks 100 times, each child execs
#              /bin/true at once
#   control:   starts a thread, forks once without exec at another line
# It prints one JSON line: {"first_fork": unix seconds}.
import json
import os
import sys
import threading
import time


def fork_exit():
    pid = os.fork()  # SITE:threaded
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def fork_exec():
    pid = os.fork()  # SITE:exec
    if pid == 0:
        os.execv("/bin/true", ["true"])
    os.waitpid(pid, 0)


def control():
    pid = os.fork()  # SITE:control
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


mode = sys.argv[1]
stop = threading.Event()
if mode != "plain":
    t = threading.Thread(target=stop.wait, name="poller")
    t.start()
first = time.time()
if mode == "control":
    control()
else:
    for _ in range(100):
        if mode == "exec":
            fork_exec()
        else:
            fork_exit()
stop.set()
sys.stdout.write(json.dumps({"first_fork": first}) + "\n")
