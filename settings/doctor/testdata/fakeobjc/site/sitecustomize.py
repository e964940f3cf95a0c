# Models the Objective-C runtime's +initialize fork-safety check for tests
# on Linux (objc4: _objc_atfork_child in runtime/objc-os.mm arms the check
# only "if (ForkIsMultithreaded && !DisableInitializeForkSafety)", and
# environ_init reads OBJC_DISABLE_INITIALIZE_FORK_SAFETY once, at start-up,
# honouring only the exact value YES):
#   - the variable counts only if it was in the environment at start;
#   - the fork child is armed only if the parent had a second thread;
#   - in an armed child, looking up the system proxies (which on macOS goes
#     through _scproxy into Objective-C) prints objc4's message and aborts.
import os
import sys
import threading

_DISABLED_AT_START = os.environ.get("OBJC_DISABLE_INITIALIZE_FORK_SAFETY") == "YES"
_state = {"multithreaded": False, "armed": False}


def _before_fork():
    _state["multithreaded"] = threading.active_count() > 1


def _after_in_child():
    _state["armed"] = _state["multithreaded"] and not _DISABLED_AT_START


os.register_at_fork(before=_before_fork, after_in_child=_after_in_child)

import urllib.request as _ur  # noqa: E402

_real_getproxies = _ur.getproxies


def getproxies():
    if _state["armed"]:
        sys.stderr.write(
            "objc[%d]: +[NSString initialize] may have been in progress in another thread "
            "when fork() was called. We cannot safely call it or ignore it in the fork() "
            "child process. Crashing instead. Set a breakpoint on "
            "objc_initializeAfterForkError to debug.\n" % os.getpid()
        )
        sys.stderr.flush()
        os.abort()
    return _real_getproxies()


_ur.getproxies = getproxies
