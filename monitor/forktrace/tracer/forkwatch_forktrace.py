# forkwatch fork tracer: records where each fork() happened, for Forkwatch.
# Installed by `forkwatch trace enable`, removed by `forkwatch trace disable`;
# loaded at start-up by forkwatch_forktrace.pth in this folder.
#
# In the parent, just before fork(), it captures the forking thread's Python
# stack (file, line, function; no locals, no arguments), the thread count,
# whether the process is threaded as the platform's fork check sees it, the
# interpreter and sys.argv[0]. The record goes into slot (pid % SLOTS) of the
# file SPOOL/records, which Forkwatch created at its full size.
#
# Cost per fork: one getpid, no other system call. The record file is
# mapped (MAP_SHARED) once per process, at its first fork, and the mapping
# is inherited by every child. Up to Python 3.11, os.fork and os.forkpty are
# wrapped so that the parent, which learns the child's pid from fork(),
# copies the record into the mapping itself: code run in the child after
# fork() costs a copy-on-write page fault for every page it touches (a
# record written from the child took 14 more faults than none). From 3.12
# (see wrap_fork's caller), and for forks made in C (a subprocess
# preexec_fn, an extension), the child hook writes the record. No descriptor is
# kept: the mapping does not need one (a descriptor number kept across
# forks may be closed and reused for another file by the program). The
# working folder is cached until os.chdir or os.fchdir (wrapped to forget
# it; a chdir made from C is not seen).
#
# Writes through a mapping raise no file event, so the one fork Forkwatch
# must hear about at once - the first fork from a threaded process at each
# fork site, the one a warning is for - is written with a real write()
# (open, pwrite, close), and so is that child's end mark. Forkwatch watches
# the record file itself for it; every other record is read when a crash
# names its pid, or by a sweep.
#
# The child marks its record when it calls an exec* or posix_spawn function
# or exits (the "end" field), so that Forkwatch can tell a fork followed by
# exec from one that ran on without it. The exit mark is set up only once
# the process forks while threaded (os._exit wrapped, an atexit hook): a
# program that never is pays nothing at exit.
#
# A record file that is sparse (made by an older Forkwatch) is not mapped: a
# write into a hole needs a new block, and on a full disk a write through a
# mapping kills the writer with SIGBUS where write() only fails. It is then
# written with open, pwrite, close, as before. Forkwatch never shrinks the
# record file (a write beyond its end would also be a SIGBUS).
#
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
MAX_SITES = 256  # fork sites already announced with a real write
MAX_NAMES = 32  # thread names kept for a warning
RETRY = 10.0  # seconds between looks at a record file that was not usable
FORMAT = 2
HEAD = 18  # a record starts {"pid":1234      , (ten characters for the pid)
# The end mark is the slot's last TRAILER bytes, "1234      exit \n" (the
# pid in ten characters, then "exec ", "spawn", "exit " or a blank): the
# child may exit before its parent has written the record, and the record
# never reaches them.
TRAILER = 16


def _setup():
    import os
    import sys
    import time

    register = getattr(os, "register_at_fork", None)
    if register is None or not SPOOL:
        return
    try:
        from _thread import get_ident, _count
    except ImportError:
        return

    getframe = sys._getframe
    o_open, o_pwrite, o_close, o_fstat, o_stat = os.open, getattr(os, "pwrite", None), os.close, os.fstat, os.stat
    if o_pwrite is None:
        return
    getpid = os.getpid
    getcwd = os.getcwd
    now = time.time
    modules = sys.modules
    flags = os.O_WRONLY
    for name in ("O_NOFOLLOW", "O_CLOEXEC", "O_NONBLOCK"):
        flags |= getattr(os, name, 0)
    map_flags = (flags & ~os.O_WRONLY) | os.O_RDWR
    ring = SPOOL.rstrip("/") + "/records"
    ring_size = SLOTS * SLOT_SIZE
    darwin = sys.platform == "darwin"

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

    WRITE = "write"  # target: no mapping, write() each record
    BLANK = b"     "
    # Mutable state in one-element lists (no nonlocal in Python 2 syntax).
    target = [None]  # the mapping (a memoryview), WRITE, or None: nothing
    target_id = [None]  # (st_dev, st_ino) of what target is
    next_look = [0.0]  # when to look at the record file again
    mapping = [None]  # keeps the mmap object alive
    cwd_cache = [None]  # this process's working folder, until a chdir
    ended = [None]  # the pid whose record has its end mark
    np_threaded = [None]  # darwin: pthread_is_threaded_np, None until looked up, then the function or False
    ever_threaded = [False]  # darwin: once threaded, always threaded
    exit_marks = [False]  # os._exit wrapped and the atexit hook registered
    announced = set()  # fork sites announced with a real write
    # thread ident -> (record less its first HEAD bytes, written with
    # write(), written by the parent), from before() to the parent's fork
    # wrapper or the child's hook.
    pending = {}
    by_wrapper = [False]  # the fork under way is os.fork's or os.forkpty's, wrapped: the parent writes
    # Each frame's JSON text, by code object and line: a program forks from
    # the same few places (a Pool's eight workers from one line), and
    # formatting and escaping a frame costs more than looking it up. The
    # cache is bounded; it keeps the code objects it names alive.
    frame_text = {}
    last_middle = [(None, None, None, None, b"")]  # (how, thread, argv0, cwd, their encoded part of a record) at the last fork
    thread_names = {}  # thread ident -> its name when it first forked (forgotten every RETRY seconds)
    records = {}  # a stack's frame texts -> what its last record was made of, and the record

    def map_file(fd):
        # Python 3.13 maps without keeping a duplicate of the descriptor
        # (trackfd=False); older ones keep one for the mapping's life, so
        # they map through ctypes instead, which keeps nothing.
        if sys.version_info >= (3, 13):
            import mmap

            m = mmap.mmap(fd, ring_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, trackfd=False)
            mapping[0] = m
            return memoryview(m)
        import ctypes

        libc = ctypes.CDLL(None)
        mm = libc.mmap
        mm.restype = ctypes.c_void_p
        mm.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ssize_t]
        addr = mm(None, ring_size, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED: the same on Linux and macOS
        if not addr or addr == ctypes.c_void_p(-1).value:
            return None
        arr = (ctypes.c_char * ring_size).from_address(addr)
        mapping[0] = arr
        return memoryview(arr).cast("B")

    def look(t):
        # At the first fork, then at most every RETRY seconds: one stat
        # (is the record file still the one mapped?), or an open, fstat and
        # mmap when it is new. Never a descriptor kept.
        next_look[0] = t + RETRY
        thread_names.clear()
        try:
            st = o_stat(ring)
        except OSError:
            target[0] = target_id[0] = None
            return
        ident = (st.st_dev, st.st_ino)
        if ident == target_id[0] and target[0] is not None:
            return
        target[0] = target_id[0] = None
        fd = o_open(ring, map_flags)
        try:
            st = o_fstat(fd)
            if st.st_mode & 0o170000 != 0o100000 or st.st_size != ring_size:
                return
            ident = (st.st_dev, st.st_ino)
            if getattr(st, "st_blocks", 0) * 512 < ring_size:
                target[0] = WRITE  # sparse: see the top of this file
            else:
                target[0] = map_file(fd) or WRITE
            target_id[0] = ident
        finally:
            o_close(fd)

    def threaded_darwin(count):
        # What objc's fork check reads: pthread_is_threaded_np(), true once
        # the process has ever started a thread (native ones too). Looked up
        # at the first fork, never asked again once true.
        if ever_threaded[0]:
            return True
        f = np_threaded[0]
        if f is None:
            try:
                import ctypes

                f = ctypes.CDLL(None).pthread_is_threaded_np
                f.restype = ctypes.c_int
                f.argtypes = []
            except Exception:
                f = False
            np_threaded[0] = f
        if f is False:
            return count > 1
        if f():
            ever_threaded[0] = True
            return True
        return False

    def before():
        try:
            ident = get_ident()
            pending.pop(ident, None)
            by_wrapper[0] = False
            t = now()
            if t >= next_look[0]:
                look(t)
            if target[0] is None:
                return
            frames = []
            f = getframe(1)
            by_parent = f is not None and f.f_code in fork_codes
            by_wrapper[0] = by_parent
            if by_parent:
                f = f.f_back  # not our wrapper's frame
            while f is not None and len(frames) < MAX_FRAMES:
                c = f.f_code
                lines = frame_text.get(c)
                if lines is None:
                    lines = {}
                    if len(frame_text) < MAX_CACHED:
                        frame_text[c] = lines
                n = f.f_lineno
                text = lines.get(n)
                if text is None:
                    text = '{"file":%s,"line":%d,"function":%s}' % (q(c.co_filename), n or 0, q(c.co_name))
                    if len(lines) < 64:
                        lines[n] = text
                frames.append(text)
                f = f.f_back
            # The live Python threads: _thread._count() counts those started
            # through _thread (every threading.Thread), and costs no lock;
            # threading.active_count() would also count foreign threads
            # that called into threading, but takes a lock and touches
            # pages enough to cost ~7 more page faults per fork.
            threads, how = _count() + 1, "_thread._count"
            th = None
            thread = thread_names.get(ident)
            if thread is None:
                thread = ""
                th = modules.get("threading")
                if th is not None:
                    thread = th.current_thread().name
                thread_names[ident] = thread
            # -- threaded check (BenchmarkTracer measures the tracer without it) --
            if darwin:
                threaded = threaded_darwin(threads)
                if np_threaded[0] is not False:
                    how = "pthread_is_threaded_np"
            else:
                threaded = threads > 1
            # The first fork from a threaded process at each fork site is
            # the one a warning is about: its record goes with a real
            # write, and only it gathers the threads' names.
            wake, names = False, b""
            if threaded:
                if not exit_marks[0]:
                    exit_marks[0] = True
                    setup_exit_marks()
                site = tuple(frames)
                if site not in announced and len(announced) < MAX_SITES:
                    announced.add(site)
                    wake = True
                    th = modules.get("threading")
                    if th is not None:
                        names = (',"thread_names":[%s]' % ",".join(q(x.name) for x in th.enumerate()[:MAX_NAMES])).encode("utf-8", "replace")
            # -- end of threaded check --
            argv = getattr(sys, "argv", None)
            cwd = cwd_cache[0]
            if cwd is None:
                try:
                    cwd = getcwd()
                except Exception:
                    cwd = ""
                cwd_cache[0] = cwd
            # The parts that seldom change are kept encoded: every page the
            # parent writes between two forks costs a page fault (fork left
            # it write-protected), and building a record afresh touches many.
            argv0 = argv[0] if argv else ""
            last = last_middle[0]
            if last[0] is how and last[1] is thread and last[2] is argv0 and last[3] is cwd:
                middle = last[4]  # the same objects as at the last fork
            else:
                middle = ('"threaded_how":%s,"thread":%s,"argv0":%s,"cwd":%s%s' % (q(how), q(thread), q(argv0), q(cwd), static)).encode("utf-8", "replace")
                last_middle[0] = (how, thread, argv0, cwd, middle)
            site = tuple(frames)
            pid = getpid()
            # The same fork again (a loop, a pool's workers): the record of
            # the last fork from this site and thread, its time rewritten in
            # place, is the new one. A record only leaves this process as a
            # copy (into the mapping, or the child's own memory).
            c = records.get(site)
            if (
                c is not None
                and c[0] is middle
                and c[1] == threads
                and c[2] is threaded
                and c[3] == pid
                and c[4] == ident
                and not wake
                and f is None
            ):
                rec = c[5]
                tm = b"%.6f" % t
                if len(tm) == 17:
                    rec[c[6] : c[6] + 17] = tm
                    pending[ident] = (rec, target[0] is WRITE, by_parent)
                    return
            stack = (',"truncated":%s,"stack":[%s]}\n' % ("true" if f is not None else "false", ",".join(frames))).encode("utf-8", "replace")
            head = b'"ppid":%d,"time":' % pid
            rec = bytearray(
                b"".join(
                    (
                        head,
                        b'%.6f,"threads":%d,"threaded":%s,' % (t, threads, b"true" if threaded else b"false"),
                        middle,
                        names,
                        b',"wake":true' if wake else b"",
                        stack,
                    )
                )
            )
            if len(rec) + HEAD + TRAILER > SLOT_SIZE:
                # Too long: drop outer frames until it fits.
                del rec[len(rec) - len(stack) :]
                while frames:
                    frames.pop()
                    stack = (',"truncated":true,"stack":[%s]}\n' % ",".join(frames)).encode("utf-8", "replace")
                    if len(rec) + len(stack) + HEAD + TRAILER <= SLOT_SIZE:
                        break
                rec += stack
                if len(rec) + HEAD + TRAILER > SLOT_SIZE:
                    return
            elif not wake and f is None:
                if len(records) >= MAX_CACHED:
                    records.clear()
                records[site] = (middle, threads, threaded, pid, ident, rec, len(head))
            pending[ident] = (rec, wake or target[0] is WRITE, by_parent)
        except BaseException:
            pass

    def pid_head(pid):
        return b'{"pid":%-10d,' % pid

    def write_at(data, off):
        fd = o_open(ring, flags)
        try:
            o_pwrite(fd, data, off)
        finally:
            o_close(fd)

    def put(pid, item):
        # The record less its head, then the head: a reader never sees a
        # whole record under the wrong pid. Never raises.
        try:
            rec = item[0]
            off = (pid % SLOTS) * SLOT_SIZE
            m = target[0]
            if item[1] or m is WRITE:
                write_at(pid_head(pid) + rec, off)
            elif m is not None:
                m[off + HEAD : off + HEAD + len(rec)] = rec
                m[off : off + HEAD] = pid_head(pid)
        except BaseException:
            pass

    def after_in_child():
        # Only for a fork made in C: after os.fork and os.forkpty the
        # parent writes the record, and the child does nothing (one read:
        # every page the child touches costs it a copy-on-write fault).
        if by_wrapper[0]:
            return
        try:
            item = pending.get(get_ident())
            if item is not None and not item[2]:
                put(getpid(), item)
        except BaseException:
            pass

    def wrap_fork(name):
        real = getattr(os, name, None)
        if real is None:
            return
        # As little as can be between fork() and the return: every page
        # the parent writes now costs a copy-on-write fault.
        if name == "fork":

            def fork():
                pid = real()
                if pid:
                    try:
                        item = pending.pop(get_ident(), None)
                        if item is not None and item[2]:
                            m = target[0]
                            if item[1] or m is WRITE:
                                put(pid, item)
                            elif m is not None:
                                # put(), inlined: one call less after fork.
                                rec = item[0]
                                off = (pid % SLOTS) * SLOT_SIZE
                                m[off + HEAD : off + HEAD + len(rec)] = rec
                                m[off : off + HEAD] = b'{"pid":%-10d,' % pid
                    except BaseException:
                        pass
                return pid

        else:

            def fork():
                r = real()
                if r[0]:
                    item = pending.pop(get_ident(), None)
                    if item is not None and item[2]:
                        put(r[0], item)
                return r

        fork_codes.add(fork.__code__)
        install(name, real, fork)

    def mark(word, force=False):
        # This process's end mark, in its slot's trailer: exec, spawn or
        # exit, the first that happens (force: the blank that undoes a
        # failed exec). With a real write for the fork a warning is about,
        # which this process's pending entry, inherited from its parent's
        # before(), says.
        try:
            m = target[0]
            if m is None:
                return
            pid = getpid()
            if ended[0] == pid and not force:
                return
            item = pending.get(get_ident())
            digits = b"%d" % pid
            trailer = digits + b" " * (10 - len(digits)) + word + b"\n"
            off = (pid % SLOTS + 1) * SLOT_SIZE - TRAILER
            if m is WRITE or (item is not None and item[1]):
                write_at(trailer, off)  # a real write: the watcher hears of it
            else:
                m[off : off + TRAILER] = trailer
            ended[0] = None if word == BLANK else pid
        except BaseException:
            pass

    def install(name, real, wrapper):
        wrapper.__name__ = getattr(real, "__name__", name)
        wrapper.__doc__ = getattr(real, "__doc__", None)
        wrapper.__wrapped__ = real
        setattr(os, name, wrapper)
        for s in ("supports_fd", "supports_dir_fd", "supports_follow_symlinks", "supports_effective_ids"):
            group = getattr(os, s, None)
            if isinstance(group, set) and real in group:
                group.add(wrapper)

    def wrap(name, word):
        real = getattr(os, name, None)
        if real is None:
            return
        if word is None:

            def wrapper(*args, **kwargs):
                cwd_cache[0] = None
                try:
                    return real(*args, **kwargs)
                finally:
                    cwd_cache[0] = None

        else:

            def wrapper(*args, **kwargs):
                was = ended[0]
                mark(word)
                try:
                    return real(*args, **kwargs)
                except BaseException:
                    if ended[0] != was and word != b"exit ":
                        mark(BLANK, True)  # the exec or spawn failed
                    raise

        install(name, real, wrapper)

    def setup_exit_marks():
        # Once the process forks while threaded: its children (and it) mark
        # their records when they exit.
        wrap("_exit", b"exit ")
        try:
            import atexit

            atexit.register(mark, b"exit ")
        except Exception:
            pass

    fork_codes = set()
    # From 3.12 os.fork warns (DeprecationWarning) when the process has
    # threads, naming the line that called it: a wrapper would be that
    # line, and the warning, shown by default for __main__, would name
    # this module instead. There the child writes its record.
    if sys.version_info < (3, 12):
        wrap_fork("fork")
        wrap_fork("forkpty")
    # os.execl, execle, execlp, execlpe, execvp and execvpe all end in
    # os.execv or os.execve, looked up when they run.
    for name in ("execv", "execve"):
        wrap(name, b"exec ")
    for name in ("posix_spawn", "posix_spawnp"):
        wrap(name, b"spawn")
    for name in ("chdir", "fchdir"):
        wrap(name, None)

    # No after_in_parent hook: after a fork made in C the parent's record
    # stays in pending until this thread forks again (one per forking
    # thread); the child has written it.
    register(before=before, after_in_child=after_in_child)


try:
    _setup()
except BaseException:
    pass
