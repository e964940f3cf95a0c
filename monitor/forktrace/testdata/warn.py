# Python 3.12+ warns when a threaded process forks, naming the caller's
# line; with the tracer loaded the warning must still name this file.
import os
import site
import sys
import threading
import warnings

site.addsitedir(sys.argv[1])
warnings.simplefilter("always")
stop = threading.Event()
t = threading.Thread(target=stop.wait)
t.start()
pid = os.fork()  # WARN-LINE
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
stop.set()
t.join()
