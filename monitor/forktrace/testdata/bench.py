# Measures what the fork tracer costs, for BenchmarkTracer: run once with
# the tracer's site folder (argv[1]) and once with an empty one, interleaved
# by the Go side. Prints one JSON line of samples in microseconds:
#   fork: os.fork() + the child's _exit + waitpid (parent and child hooks)
#   pool: multiprocessing fork-context Pool(8) start-up, through its first
#         map over 8 items (every worker forked and answering)
#   hook_before, hook_child: the tracer's own hooks called directly, 1000
#         times each, 10 frames deep (with the tracer only)
import json
import os
import site
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
clock = time.perf_counter


def fork_once():
    t0 = clock()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return (clock() - t0) * 1e6


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


fork_once()  # warm up
out = {"loaded": "forkwatch_forktrace" in sys.modules, "fork": [fork_once() for _ in range(forks)], "pool": [pool_once() for _ in range(pools)]}
out["hook_before"], out["hook_child"] = hook_costs()
sys.stdout.write(json.dumps(out) + "\n")
