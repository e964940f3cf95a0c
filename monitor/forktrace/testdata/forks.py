# Forks in each way the fork tracer must see, and prints what it did as one
# JSON line: the pids of the children per way, and whether every child ran.
# Runs under Python 2.7 too (where the tracer must be a no-op). Lines marked
# "SITE:" are the lines the tracer must name; the Go test reads them.
import json
import os
import site
import sys

if len(sys.argv) > 1:
    site.addsitedir(sys.argv[1])  # processes forkwatch_forktrace.pth as at start-up


def child_pid(_):
    return os.getpid()


def fork_directly():
    pid = os.fork()  # SITE:os.fork
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    return pid, os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7


def through_pool(ctx):
    pool = ctx.Pool(2)  # SITE:multiprocessing.pool
    try:
        pids = [w.pid for w in pool._pool]
        ok = sorted(pool.map(abs, range(-8, 0))) == list(range(1, 9))
    finally:
        pool.close()
        pool.join()
    return pids, ok


def through_executor(ctx):
    import concurrent.futures as cf

    ex = cf.ProcessPoolExecutor(2, mp_context=ctx)
    try:
        ok = list(ex.map(abs, range(-4, 0))) == [4, 3, 2, 1]  # SITE:concurrent.futures.process
        pids = list(ex._processes.keys())
    finally:
        ex.shutdown()
    return pids, ok


def main():
    limit = os.environ.get("FORKS_FSIZE")
    if limit is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    out = {"python": "%d.%d" % sys.version_info[:2], "loaded": "forkwatch_forktrace" in sys.modules, "forks": {}, "ok": {}}
    pid, ok = fork_directly()
    out["forks"]["os.fork"], out["ok"]["os.fork"] = [pid], ok
    # A wrapped os.fork is still os.fork: it refuses arguments and keeps
    # its name.
    try:
        if os.fork(1) == 0:
            os._exit(0)
        out["ok"]["os.fork refuses arguments"] = False
    except TypeError:
        out["ok"]["os.fork refuses arguments"] = True
    out["ok"]["os.fork named fork"] = os.fork.__name__ == "fork"
    if sys.version_info >= (3, 7):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        for name, f in (("multiprocessing.pool", through_pool), ("concurrent.futures.process", through_executor)):
            out["forks"][name], out["ok"][name] = f(ctx)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
