# Measures what the fork tracer costs, for BenchmarkTracer: run with the
# tracer's site folder (argv[1]), with the tracer less its threaded check,
# and with an empty one, interleaved by the Go side. Prints one JSON line
# of samples:
#   fork: os.fork() + the child's _exit + wait4 (parent and child hooks), µs
#   child_start: from just before os.fork() in the parent to the child's
#         first line of user code, µs
#   minflt: the child's minor page faults (wait4's rusage)
#   fork_threaded: the fork round trip again with a second thread running
#         (the threaded check says so; exit marks on), µs
#   first: the first fork of the process (the tracer maps the record file
#         then), µs
#   pool: multiprocessing fork-context Pool(8) start-up, through its first
#         map over 8 items (every worker forked and answering), µs
#   hook_before, hook_child: the tracer's own hooks called directly, 1000
#         times each, 10 frames deep (with the tracer only), µs per call
import json
import mmap
import os
import site
import struct
import sys
import time

hooks = {}
register = getattr(os, "register_at_fork", None)


def spy(**kw):
    hooks.update(kw)
    register(**kw)


os.register_at_fork = spy
site.addsitedir(sys.argv[1])
os.register_at_fork = register
forks, pools = int(sys.argv[2]), int(sys.argv[3])
import multiprocessing

ctx = multiprocessing.get_context("fork")
clock = time.perf_counter  # CLOCK_MONOTONIC: one clock for parent and child
shared = mmap.mmap(-1, 8)  # the child's first-line time, without a system call


def fork_once():
    t0 = clock()
    pid = os.fork()
    if pid == 0:
        struct.pack_into("d", shared, 0, clock())
        os._exit(0)
    _, _, ru = os.wait4(pid, 0)
    t1 = clock()
    (start,) = struct.unpack_from("d", shared, 0)
    return (t1 - t0) * 1e6, (start - t0) * 1e6, ru.ru_minflt


def pool_once():
    t0 = clock()
    pool = ctx.Pool(8)
    pool.map(abs, range(8))
    dt = (clock() - t0) * 1e6
    pool.terminate()
    pool.join()
    return dt


def hook_costs(depth=10):
    if depth:
        return hook_costs(depth - 1)
    if "before" not in hooks:
        return [], []
    before, child = hooks["before"], hooks["after_in_child"]
    t0 = clock()
    for _ in range(1000):
        before()
    t1 = clock()
    for _ in range(1000):
        before()
        child()  # writes this process's slot: harmless
    t2 = clock()
    b = (t1 - t0) * 1e3
    return [b], [(t2 - t1) * 1e3 - b]


first = fork_once()[0]
runs = [fork_once() for _ in range(forks)]
out = {
    "loaded": "forkwatch_forktrace" in sys.modules,
    "first": [first],
    "fork": [r[0] for r in runs],
    "child_start": [r[1] for r in runs],
    "minflt": [r[2] for r in runs],
    "pool": [pool_once() for _ in range(pools)],
}
out["hook_before"], out["hook_child"] = hook_costs()
import threading

stop = threading.Event()
t = threading.Thread(target=stop.wait)
t.start()
out["fork_threaded"] = [fork_once()[0] for _ in range(forks)]
stop.set()
t.join()
sys.stdout.write(json.dumps(out) + "\n")
