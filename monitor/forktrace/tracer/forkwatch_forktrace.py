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
# is inherited by every child. os.fork and os.forkpty are wrapped so that
# the parent, which learns the child's pid from fork(), copies the record
# into the mapping itself: code run in the child after fork() costs a
# copy-on-write page fault for every page it touches. For forks made in C
# (a subprocess preexec_fn, an extension) the child hook writes it. No
# descriptor is kept: the mapping does not need one (a descriptor number
# kept across forks may be closed and reused for another file by the
# program). The working folder is cached until os.chdir or os.fchdir
# (wrapped to forget it; a chdir made from C is not seen).
#
# What a fork costs beyond that is page faults and fork() itself. fork()
# leaves every page of the parent write-protected, and each page either
# process then writes costs a fault (about 1 us, 2.5 us while the other
# still shares it, on the 2-core VM this was measured on: most of what the
# tracer adds to a fork of a small process); and fork() copies the page
# tables of all the process's memory. So:
# - everything is made in the parent before fork() (_before below), and
#   after it the parent only copies bytes into the mapping;
# - the same fork again (a loop, a pool's workers) is recognised by its
#   key (numbers, compared in C), and its record is the bytes made
#   the first time: nothing formatted, hashed or allocated but a few
#   numbers and the head;
# - the hot path is module-level functions reading module globals (a
#   closure's call writes each of its cells), and nothing crosses fork()
#   in the wrapper's variables (the child would release them: a write);
# - the mapping is made through _ctypes, not ctypes (300 KB less memory
#   for every later fork() to copy the page tables of), and Enable leaves
#   this module's bytecode beside it (compiling it at start-up leaves 1.3
#   MB of the compiler's memory in the process).
# The frame walk (sys._getframe and f_back make frame objects) is the
# floor. BenchmarkTracer measures it all.
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
MAX_CACHED = 2048  # records (and frames) kept between forks
MAX_SITES = 256  # fork sites already announced with a real write
MAX_NAMES = 32  # thread names kept for a warning
RETRY = 10.0  # seconds between looks at a record file that was not usable
FORMAT = 2
# The end mark is the slot's last TRAILER bytes, "1234      exit \n" (the
# pid in ten characters, then "exec ", "spawn", "exit " or a blank): the
# child may exit before its parent has written the record, and the record
# never reaches them.
TRAILER = 16
# What the head of a record ({"pid":1234      ,"ppid":1233,"time":...,
# written per fork) may take at most; the rest is made to fit after it.
HEAD_MAX = 80
BLANK = b"     "

# The hot path (os.fork's wrapper, the hooks) is module-level functions
# reading module globals: a closure copies every cell it uses into its
# frame at each call, writing each cell (a page fault after fork), and
# Python 2 syntax has no nonlocal. The globals change only when something
# changes (a chdir, a new record file, every RETRY seconds, a new fork
# site).
_on = False  # there is a record file to write to
_map = None  # the mapping (a memoryview), or None: not mapped
_next_look = 0  # when to look at the record file again (time.time_ns() // 1000)
# The key of a fork: what its record says but its pid, its parent and its
# time (which are written per fork), the working folder (the records are
# forgotten at a chdir) and the interpreter: the thread count, the thread
# (0 when it is the only one), threaded, argv[0], then per frame id(code)
# and the last instruction, then whether the stack ended within MAX_FRAMES.
# A list, made afresh at each fork (two threads may fork at once).
KEY = 4 + 2 * MAX_FRAMES  # where a key of MAX_FRAMES frames has that last item
# The last fork's key, its record and its code objects (an id is the
# object's only while it lives), in one tuple (read at once).
_last = ([None] * 5, None, None)
_records = {}  # tuple(key) -> (record less its head, the code objects)
# Between our os.fork wrapper and before(), by thread (threads may fork at
# once): True from the wrapper just before it calls fork(), then what
# before() made for the wrapper to write after fork(), the record less its
# first PID_HEAD bytes (None: nothing), kept until the thread forks again.
_wrapping = {}
PID_HEAD = 17  # {"pid":1234      (the pid in ten characters), written after fork()
# For the child hook (a fork made in C): the record less its pid head, in
# _child_body when the process had one thread, in _pending by thread
# otherwise (None: nothing pending).
_child_body = None
_pending = None
_wake_ident = None  # the thread whose fork under way is announced with a real write
_ended = None  # the pid whose record has its end mark
_cwd = None  # this process's working folder, until a chdir
_ever_threaded = False  # macOS: pthread_is_threaded_np() said yes (it stays true)
_keep = []  # code objects frame_text names by id, for records not kept in _records


def _before():
    # In the parent before every fork: the record of the fork, less its
    # pid. For our os.fork wrapper it goes into _wrapping, for the wrapper
    # to write after fork(); otherwise (a fork made in C) into _child_body
    # or _pending, for the child hook. Everything but that copy is done
    # here, before fork(): after it every page the parent writes is one
    # the child still shares (a copy), and the child starts later.
    #
    # The same fork as the last one (a loop, a pool's workers) is known by
    # its key alone, compared in C: nothing is hashed (a code object's
    # hash hashes its constants), formatted or allocated but a few numbers,
    # and its record is the bytes made for the first one.
    global _pending, _child_body, _wake_ident
    try:
        ident = _get_ident()
        # Nothing of an earlier fork may reach this one's child.
        if _child_body is not None:
            _child_body = None
        if _pending is not None:
            _pending.pop(ident, None)
            if not _pending:
                _pending = None
        # Marked by our wrapper just before it called fork() in this
        # thread. (A mark stays when fork() is refused before the hooks run,
        # by an audit hook: this thread's next fork made in C then goes
        # unrecorded.)
        wrapped = _wrapping.get(ident) is True
        if wrapped:
            _wrapping[ident] = None
        # The frame that called fork(): our wrapper has none of its own.
        f = _getframe(1)
        t = _now() // 1000  # microseconds: a float would be formatted by dtoa, writing its own pages
        if t >= _next_look:
            _look(t)
        if not _on:
            return
        if _wake_ident is not None and _wake_ident == ident:
            _wake_ident = None
        ppid = _getpid()
        # The live Python threads: _thread._count() counts those started
        # through _thread (every threading.Thread), and costs no lock;
        # threading.active_count() would also count foreign threads that
        # called into threading, but takes a lock and touches pages enough
        # to cost ~7 more page faults per fork.
        n = _count() + 1
        # -- threaded check (cut: threaded = False) --
        if _darwin:
            threaded = _ever_threaded or _threaded_darwin(n)
        else:
            threaded = n > 1
        # -- end of threaded check --
        last = _last
        # As long as the last fork's (the same fork, mostly): one allocation.
        k = [None] * len(last[0])
        k[0] = n
        # The thread, when there are more: by its native id, which a new
        # thread does not take over as it does a finished one's ident.
        k[1] = _thread_id() if n > 1 else 0
        k[2] = threaded
        try:
            k[3] = _sys.argv[0]
        except Exception:
            k[3] = ""
        f0 = f
        i = 4
        while f is not None and i < KEY:
            if i + 1 < len(k):
                k[i] = id(f.f_code)
                k[i + 1] = f.f_lasti
            else:
                k[i:] = (id(f.f_code), f.f_lasti)
            i += 2
            f = f.f_back
        # Then whether the stack ended within MAX_FRAMES.
        if i < len(k):
            k[i] = f is None
            del k[i + 1 :]
        else:
            k.append(f is None)
        if k == last[0]:
            rec = last[1]
        else:
            rec = _make(k, f0)
        if rec is None:
            return
        body = b',"ppid":%d,"time":%d.%06d' % (ppid, t // 1000000, t % 1000000) + rec
        if wrapped:
            _wrapping[ident] = body
        elif n > 1:
            p = _pending
            if p is None:
                p = _pending = {}
            p[ident] = body
        else:
            _child_body = body
    except BaseException:
        pass


def _forked(_, pid):
    # Our os.fork wrapper, after fork(): in the parent, the record before()
    # made, under the child's pid. Nothing else crosses fork() in Python:
    # the wrapper is made of C callables (see where it is installed).
    if pid:
        try:
            b = _wrapping.get(_get_ident())  # read, not popped: a write after fork() is a copy
            if b is not None and b is not True:
                m = _map
                if m is None or _wake_ident is not None:
                    _put(pid, b)
                else:
                    off = (pid % SLOTS) * SLOT_SIZE
                    m[off + PID_HEAD : off + PID_HEAD + len(b)] = b  # the record less its pid, then the pid
                    m[off : off + PID_HEAD] = b'{"pid":%-10d' % pid
        except BaseException:
            pass
    return pid


def _forked_pty(_, r):
    # Our os.forkpty wrapper, after forkpty() (as _forked).
    if r[0]:
        try:
            b = _wrapping.get(_get_ident())
            if b is not None and b is not True:
                _put(r[0], b)
        except BaseException:
            pass
    return r


def _after_in_child():
    # In the child, after a fork made in C: the record, made by before(),
    # under this pid. After our os.fork and os.forkpty wrappers the parent
    # writes it, and the child reads two globals (every page the child
    # writes costs it a copy-on-write fault).
    b = _child_body
    if b is None:
        if _pending is None:
            return
        try:
            b = _pending.pop(_get_ident(), None)
        except BaseException:
            return
    try:
        pid = _getpid()
        m = _map
        if m is None or _wake_ident is not None:
            _put(pid, b)
        else:
            off = (pid % SLOTS) * SLOT_SIZE
            m[off + PID_HEAD : off + PID_HEAD + len(b)] = b
            m[off : off + PID_HEAD] = b'{"pid":%-10d' % pid
    except BaseException:
        pass


def _exit(status):
    # os._exit, once the process has forked while threaded: the end mark
    # "exit" (see mark() in _setup), then the real one; lean, since most
    # callers are children just forked (each page written is a fault).
    try:
        if _on:
            pid = _getpid()
            if _ended != pid:
                trailer = b"%-10dexit \n" % pid
                off = (pid % SLOTS + 1) * SLOT_SIZE - TRAILER
                m = _map
                if m is None or (_wake_ident is not None and _wake_ident == _get_ident()):
                    _write_at(trailer, off)  # a real write: the watcher hears of it
                else:
                    m[off : off + TRAILER] = trailer
    except BaseException:
        pass
    _real_exit(status)


def _put(pid, body):
    # The record less its pid, then the pid (which names whose it is);
    # with write() for an announced fork or a record file not mapped.
    # Never raises.
    try:
        if body is None:
            return
        off = (pid % SLOTS) * SLOT_SIZE
        head = b'{"pid":%-10d' % pid
        m = _map
        if m is None or _wake_ident is not None:
            if _on:
                _write_at(head + body, off)
            return
        m[off + PID_HEAD : off + PID_HEAD + len(body)] = body
        m[off : off + PID_HEAD] = head
    except BaseException:
        pass


def _setup():
    import os
    import sys
    import time

    global _get_ident, _thread_id, _count, _getpid, _getframe, _now, _sys, _darwin, _threaded_darwin
    global _look, _make, _write_at, _mark

    register = getattr(os, "register_at_fork", None)
    if register is None or not SPOOL:
        return
    try:
        from _thread import get_ident, _count
    except ImportError:
        return
    try:
        from _thread import get_native_id as thread_id  # 3.8+
    except ImportError:

        def thread_id():
            # 3.7: a new thread may take over a finished one's ident; its
            # name tells them apart.
            th = sys.modules.get("threading")
            return (get_ident(), th.current_thread().name if th is not None else "")

    o_open, o_pwrite, o_close, o_fstat, o_stat = os.open, getattr(os, "pwrite", None), os.close, os.fstat, os.stat
    if o_pwrite is None:
        return
    getpid = os.getpid
    getcwd = os.getcwd
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

    mapping = [None]  # keeps the mmap object alive
    target_id = [None]  # (st_dev, st_ino) of the record file mapped or written
    np_threaded = [None]  # darwin: pthread_is_threaded_np, None until looked up, then the function or False
    ever_threaded = [False]  # darwin: once threaded, always threaded
    exit_marks = [False]  # os._exit wrapped and the atexit hook registered
    announced = set()  # fork sites announced with a real write
    frame_text = {}  # (id(code), line) -> the frame's JSON text; the code is kept in _records

    def map_file(fd):
        # Python 3.13 maps without keeping a duplicate of the descriptor
        # (trackfd=False); older ones keep one for the mapping's life, so
        # they call mmap(2) through _ctypes, which keeps nothing. Not
        # through ctypes: importing it costs 300 KB more of the process's
        # memory, which each later fork() copies the page tables of.
        if sys.version_info >= (3, 13):
            import mmap

            m = mmap.mmap(fd, ring_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, trackfd=False)
            mapping[0] = m
            return memoryview(m)
        mm = c_function("mmap", "P", "PLiiil")  # void *mmap(void *, size_t, int, int, int, off_t), LP64
        addr = mm(None, ring_size, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED: the same on Linux and macOS
        if not addr or addr == c_type("P")(-1).value:  # MAP_FAILED
            return None
        import _ctypes

        class Ring(_ctypes.Array):
            _type_ = c_type("c")
            _length_ = ring_size

        arr = Ring.from_address(addr)
        mapping[0] = arr
        return memoryview(arr).cast("B")

    c_types = {}

    def c_type(code):
        # A ctypes simple type made from _ctypes itself ("P" void *, "L"
        # unsigned long, "l" long, "i" int, "c" char): ctypes's own
        # module would be imported for the few it defines.
        t = c_types.get(code)
        if t is None:
            import _ctypes

            t = c_types[code] = type("c_" + code, (_ctypes._SimpleCData,), {"_type_": code})
        return t

    def c_function(name, restype, argtypes):
        # A C function of the process (libc), called through _ctypes.
        import _ctypes

        class Lib(object):
            _handle = _ctypes.dlopen(None)

        class Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL
            _restype_ = c_type(restype)
            _argtypes_ = tuple(c_type(a) for a in argtypes)

        return Function((name, Lib()))

    def forget():
        # The records made so far name a thread, argv[0] and the working
        # folder as they were: made afresh from now on.
        global _last
        _records.clear()
        frame_text.clear()
        del _keep[:]
        _last = ([None] * 5, None, None)

    def look(t):
        # At the first fork, then at most every RETRY seconds: one stat
        # (is the record file still the one mapped?), or an open, fstat and
        # mmap when it is new. Never a descriptor kept. What it finds is
        # published at the end, at once: threads forking meanwhile write
        # with what was there (at the first fork, they look too).
        global _on, _map, _next_look
        forget()  # thread names are looked at again
        on, m, ident = False, None, None
        try:
            st = o_stat(ring)
            ident = (st.st_dev, st.st_ino)
            if ident == target_id[0] and _on:
                on, m = True, _map
                return
            fd = o_open(ring, map_flags)
            try:
                st = o_fstat(fd)
                if st.st_mode & 0o170000 == 0o100000 and st.st_size == ring_size:
                    ident = (st.st_dev, st.st_ino)
                    if getattr(st, "st_blocks", 0) * 512 >= ring_size:
                        m = map_file(fd)  # None: written with write()
                    # else sparse (see the top of this file): written with write()
                    on = True
            finally:
                o_close(fd)
        except OSError:
            pass
        finally:
            target_id[0] = ident if on else None
            _map, _on, _next_look = m, on, t + int(RETRY * 1000000)

    def threaded_darwin(count):
        # What objc's fork check reads: pthread_is_threaded_np(), true once
        # the process has ever started a thread (native ones too). Looked up
        # at the first fork, never asked again once true.
        global _ever_threaded
        if ever_threaded[0]:
            return True
        f = np_threaded[0]
        if f is None:
            try:
                f = c_function("pthread_is_threaded_np", "i", "")
            except Exception:
                f = False
            np_threaded[0] = f
        if f is False:
            return count > 1
        if f():
            _ever_threaded = ever_threaded[0] = True
            return True
        return False

    def make(k, f):
        # The record of a fork from frame f whose key k is not the last
        # fork's: made, or found among those made since the last forget().
        global _cwd, _wake_ident, _last
        key = tuple(k)
        found = _records.get(key)
        if found is not None:
            _last = (k, found[0], found[1])
            return found[0]
        if len(_records) >= MAX_CACHED or len(frame_text) >= MAX_CACHED:
            forget()
        threads, threaded, argv0 = k[0], k[2], k[3]
        truncated = not k[-1]
        frames = []
        codes = []
        while f is not None and len(frames) < MAX_FRAMES:
            c = f.f_code
            n = f.f_lineno or 0
            fk = (id(c), n)
            text = frame_text.get(fk)
            if text is None:
                text = '{"file":%s,"line":%d,"function":%s}' % (q(c.co_filename), n, q(c.co_name))
                frame_text[fk] = text
            codes.append(c)
            frames.append(text)
            f = f.f_back
        how = "_thread._count"
        if darwin and np_threaded[0]:
            how = "pthread_is_threaded_np"
        thread = ""
        th = modules.get("threading")
        if th is not None:
            thread = th.current_thread().name
        # -- threaded check (cut: wake, names = False, b"") --
        # The first fork from a threaded process at each fork site is the
        # one a warning is about: its record goes with a real write, and
        # only it gathers the threads' names.
        wake, names = False, b""
        if threaded:
            if not exit_marks[0]:
                exit_marks[0] = True
                setup_exit_marks()
            site = tuple(frames)
            if site not in announced and len(announced) < MAX_SITES:
                announced.add(site)
                wake = True
                if th is not None:
                    names = (',"thread_names":[%s]' % ",".join(q(x.name) for x in th.enumerate()[:MAX_NAMES])).encode("utf-8", "replace")
        # -- end of threaded check --
        cwd = _cwd
        if cwd is None:
            try:
                cwd = getcwd()
            except Exception:
                cwd = ""
            _cwd = cwd
        middle = (
            ',"threads":%d,"threaded":%s,"threaded_how":%s,"thread":%s,"argv0":%s,"cwd":%s%s'
            % (threads, "true" if threaded else "false", q(how), q(thread), q(argv0), q(cwd), static)
        ).encode("utf-8", "replace") + names
        if wake:
            middle += b',"wake":true'
        stack = (',"truncated":%s,"stack":[%s]}\n' % ("true" if truncated else "false", ",".join(frames))).encode("utf-8", "replace")
        room = SLOT_SIZE - HEAD_MAX - TRAILER
        if len(middle) + len(stack) > room:
            # Too long: drop outer frames until it fits.
            while frames:
                frames.pop()
                stack = (',"truncated":true,"stack":[%s]}\n' % ",".join(frames)).encode("utf-8", "replace")
                if len(middle) + len(stack) <= room:
                    break
            if len(middle) + len(stack) > room:
                _last = ([None] * 5, None, None)
                return None
        rec = middle + stack
        if wake:
            _keep.append(codes)
            # Written with write(), and so is the child's end mark; the
            # next fork from here is made afresh, unannounced.
            _wake_ident = get_ident()
            _last = ([None] * 5, None, None)
            return rec
        _records[key] = (rec, codes)
        _last = (k, rec, codes)
        return rec

    def write_at(data, off):
        fd = o_open(ring, flags)
        try:
            o_pwrite(fd, data, off)
        finally:
            o_close(fd)

    def mark(word, force=False):
        # This process's end mark, in its slot's trailer: exec, spawn or
        # exit, the first that happens (force: the blank that undoes a
        # failed exec). With a real write for the fork a warning is about,
        # which _wake_ident, inherited from the parent, says.
        global _ended
        try:
            if not _on:
                return
            pid = getpid()
            if _ended == pid and not force:
                return
            digits = b"%d" % pid
            trailer = digits + b" " * (10 - len(digits)) + word + b"\n"
            off = (pid % SLOTS + 1) * SLOT_SIZE - TRAILER
            m = _map
            if m is None or (_wake_ident is not None and _wake_ident == get_ident()):
                write_at(trailer, off)  # a real write: the watcher hears of it
            else:
                m[off : off + TRAILER] = trailer
            _ended = None if word == BLANK else pid
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
                global _cwd
                _cwd = None
                try:
                    return real(*args, **kwargs)
                finally:
                    _cwd = None
                    forget()  # the records name the working folder

        else:

            def wrapper(*args, **kwargs):
                was = _ended
                mark(word)
                try:
                    return real(*args, **kwargs)
                except BaseException:
                    if _ended != was and word != b"exit ":
                        mark(BLANK, True)  # the exec or spawn failed
                    raise

        install(name, real, wrapper)

    def setup_exit_marks():
        # Once the process forks while threaded: its children (and it) mark
        # their records when they exit.
        global _real_exit
        real = getattr(os, "_exit", None)
        if real is not None:
            _real_exit = real
            install("_exit", real, _exit)
        try:
            import atexit

            atexit.register(mark, b"exit ")
        except Exception:
            pass

    _get_ident, _thread_id, _count, _getpid, _getframe, _now, _sys = get_ident, thread_id, _count, getpid, sys._getframe, time.time_ns, sys
    _darwin, _threaded_darwin = darwin, threaded_darwin
    _look, _make, _write_at, _mark = look, make, write_at, mark
    # os.fork and os.forkpty wrapped, so that the parent writes the record
    # (see the top of this file), with C callables only: os.fork is
    # partial(m.__next__) (a partial to carry the name, the doc and
    # __wrapped__; __next__ refuses arguments as fork() does), and each
    # next(m) marks this thread in _wrapping (for before()), calls the real
    # fork() and hands its result to _forked. No frame of ours is on the
    # stack when fork() runs: from 3.12, fork() warns (DeprecationWarning)
    # when the process has threads, naming the line that called it, which
    # must be the program's.
    from functools import partial
    from itertools import repeat

    never = object()  # iter(f, never) calls f for ever
    marks = map(_wrapping.__setitem__, iter(get_ident, never), repeat(True))
    for name, after in (("fork", _forked), ("forkpty", _forked_pty)):
        real = getattr(os, name, None)
        if real is not None:
            install(name, real, partial(map(after, marks, iter(real, never)).__next__))
    # os.execl, execle, execlp, execlpe, execvp and execvpe all end in
    # os.execv or os.execve, looked up when they run.
    for name in ("execv", "execve"):
        wrap(name, b"exec ")
    for name in ("posix_spawn", "posix_spawnp"):
        wrap(name, b"spawn")
    for name in ("chdir", "fchdir"):
        wrap(name, None)

    # No after_in_parent hook: after a fork made in C the parent's record
    # stays in _pending until this thread forks again (one per forking
    # thread); the child has written it.
    register(before=_before, after_in_child=_after_in_child)


try:
    _setup()
except BaseException:
    pass
