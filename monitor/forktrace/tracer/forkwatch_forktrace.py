# forkwatch fork tracer: records where each fork() happened, for Forkwatch.
# Installed by `forkwatch trace enable`, removed by `forkwatch trace disable`;
# loaded at start-up by forkwatch_forktrace.pth in this folder.
#
# In the parent, just before fork(), it captures the forking thread's Python
# stack (file, line, function; no locals, no arguments), the thread count,
# the interpreter and sys.argv[0]. In the child, it writes that record into
# slot (pid % SLOTS) of the file SPOOL/records, which Forkwatch created at
# its full size: one os.open (no O_CREAT), one os.pwrite, one os.close; no
# imports, no locks, no logging after fork. Creating a file per child would
# cost a directory update per fork (0.9 ms on a journaled disk); writing into
# an existing file costs a few microseconds, and the spool can never grow.
# It never raises, does nothing when SPOOL/records is not a regular file,
# and does nothing before Python 3.7 (no os.register_at_fork). Kept
# compatible with Python 2.7 syntax so that an old interpreter sharing this
# folder imports it as a no-op.
SPOOL = "@SPOOL@"
SLOTS = 8192  # records kept: one slot per pid modulo SLOTS
SLOT_SIZE = 4096  # bytes per record; outer frames are dropped to fit
MAX_FRAMES = 48  # innermost frames kept
MAX_TEXT = 300  # characters kept of a file name, function, argv[0], cwd
MAX_CACHED = 2048  # frames whose text is kept between forks
FORMAT = 1
PID_ROOM = " " * 10  # the child writes its pid over these: {"pid":1234      ,


def _setup():
    import os
    import sys
    import time

    register = getattr(os, "register_at_fork", None)
    if register is None or not SPOOL:
        return
    try:
        from _thread import get_ident
    except ImportError:
        return

    getframe = sys._getframe
    getpid = os.getpid
    o_open, o_pwrite, o_close, o_stat = os.open, getattr(os, "pwrite", None), os.close, os.stat
    if o_pwrite is None:
        return
    getcwd = os.getcwd
    now = time.time
    modules = sys.modules
    flags = os.O_WRONLY
    for name in ("O_NOFOLLOW", "O_CLOEXEC", "O_NONBLOCK"):
        flags |= getattr(os, name, 0)
    ring = SPOOL.rstrip("/") + "/records"

    escapes = dict((i, "\\u%04x" % i) for i in range(32))
    escapes[ord('"')] = '\\"'
    escapes[ord("\\")] = "\\\\"

    def q(s):
        if not isinstance(s, str):
            s = "" if s is None else str(s)
        if len(s) > MAX_TEXT:
            s = s[:MAX_TEXT]
        return '"' + s.translate(escapes) + '"'

    stdlib = getattr(os, "__file__", None) or ""
    if stdlib:
        stdlib = os.path.dirname(stdlib)
    here = globals().get("__file__") or ""
    if here:
        here = os.path.dirname(os.path.abspath(here))
    static = (
        ',"format":%d,"python":%s,"executable":%s,"prefix":%s,"base_prefix":%s,"stdlib":%s,"site":%s'
        % (
            FORMAT,
            q("%d.%d.%d" % tuple(sys.version_info[:3])),
            q(sys.executable),
            q(sys.prefix),
            q(getattr(sys, "base_prefix", sys.prefix)),
            q(stdlib),
            q(here),
        )
    )

    pending = {}  # thread ident -> record, from before() to the child
    # Each frame's JSON text, by code object and line: a program forks from
    # the same few places (a Pool's eight workers from one line), and
    # formatting and escaping a frame costs more than looking it up. The
    # cache is bounded; it keeps the code objects it names alive.
    frame_text = {}

    def before():
        try:
            ident = get_ident()
            pending.pop(ident, None)
            if o_stat(ring).st_mode & 0o170000 != 0o100000:
                return
            frames = []
            f = getframe(1)
            while f is not None and len(frames) < MAX_FRAMES:
                key = (f.f_code, f.f_lineno)
                text = frame_text.get(key)
                if text is None:
                    c = f.f_code
                    text = '{"file":%s,"line":%d,"function":%s}' % (q(c.co_filename), f.f_lineno or 0, q(c.co_name))
                    if len(frame_text) < MAX_CACHED:
                        frame_text[key] = text
                frames.append(text)
                f = f.f_back
            threads, thread = 0, ""
            th = modules.get("threading")
            if th is not None:
                threads = th.active_count()
                thread = th.current_thread().name
            argv = getattr(sys, "argv", None)
            try:
                cwd = getcwd()
            except Exception:
                cwd = ""
            head = ',"ppid":%d,"time":%.6f,"threads":%d,"thread":%s,"argv0":%s,"cwd":%s%s' % (
                getpid(),
                now(),
                threads,
                q(thread),
                q(argv[0] if argv else ""),
                q(cwd),
                static,
            )
            truncated = f is not None
            while True:
                rec = '{"pid":%s%s,"truncated":%s,"stack":[%s]}\n' % (PID_ROOM, head, "true" if truncated else "false", ",".join(frames))
                rec = rec.encode("utf-8", "replace")
                if len(rec) <= SLOT_SIZE or not frames:
                    break
                frames.pop()
                truncated = True
            if len(rec) > SLOT_SIZE:
                return
            # The child writes its pid over PID_ROOM in place: no new
            # object of the record's size after fork.
            pending[ident] = bytearray(rec)
        except BaseException:
            pass

    def after_in_child():
        try:
            rec = pending.pop(get_ident(), None)
            if rec is None:
                return
            pid = getpid()
            digits = b"%d" % pid
            rec[7 : 7 + len(digits)] = digits  # over the spaces after {"pid":
            fd = o_open(ring, flags)
            try:
                o_pwrite(fd, rec, (pid % SLOTS) * SLOT_SIZE)
            finally:
                o_close(fd)
        except BaseException:
            pass

    # No after_in_parent hook: the parent's record stays in pending until
    # this thread forks again (one per forking thread), so that nothing in
    # the parent runs, or writes to memory the child shares, after fork().
    register(before=before, after_in_child=after_in_child)


try:
    _setup()
except BaseException:
    pass
