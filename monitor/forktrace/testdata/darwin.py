# The macOS branch of the tracer's threaded check, run on Linux: the
# platform is said to be darwin and _ctypes is a stand-in whose
# pthread_is_threaded_np answers 0 for the first two forks and 1 after
# (like the real one, which turns true once a thread was ever started and
# stays true); it counts how often it is asked. Python 3.13+ only (older
# ones map the record file through the real _ctypes). Prints the pids and
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


# What the tracer uses of _ctypes: dlopen(None), CFuncPtr subclassed with
# _flags_, _restype_ and _argtypes_ and made from (name, library), and
# _SimpleCData subclassed with _type_.
fake = types.ModuleType("_ctypes")
fake.FUNCFLAG_CDECL = 1


def dlopen(name, *mode):
    if name is not None:
        raise OSError(name)
    return 0


class CFuncPtr(object):
    def __init__(self, spec):
        name, lib = spec
        if name != "pthread_is_threaded_np" or lib._handle != 0 or self._restype_._type_ != "i" or self._argtypes_ != ():
            raise AttributeError(name)

    def __call__(self):
        return pthread_is_threaded_np()


class _SimpleCData(object):
    pass


fake.dlopen, fake.CFuncPtr, fake._SimpleCData = dlopen, CFuncPtr, _SimpleCData
sys.modules["_ctypes"] = fake
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
