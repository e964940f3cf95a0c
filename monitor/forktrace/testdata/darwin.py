# The macOS branch of the tracer's threaded check, run on Linux: the
# platform is said to be darwin and ctypes is a stand-in whose
# pthread_is_threaded_np answers 0 for the first two forks and 1 after
# (like the real one, which turns true once a thread was ever started and
# stays true); it counts how often it is asked. Python 3.13+ only (older
# ones map the record file through the real ctypes). Prints the pids and
# the number of calls as one JSON line.
import json
import os
import site
import sys
import types

answers = [0, 0, 1, 1, 1]
calls = []


def pthread_is_threaded_np():
    calls.append(1)
    return answers[min(len(calls), len(answers)) - 1]


fake = types.ModuleType("ctypes")
fake.c_int = int


class CDLL(object):
    def __init__(self, name):
        if name is not None:
            raise OSError(name)
        self.pthread_is_threaded_np = pthread_is_threaded_np


fake.CDLL = CDLL
sys.modules["ctypes"] = fake
sys.platform = "darwin"
site.addsitedir(sys.argv[1])
pids = []
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    pids.append(pid)
sys.stdout.write(json.dumps({"pids": pids, "calls": len(calls)}) + "\n")
