//go:build darwin

package attribute

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"
	"golang.org/x/sys/unix"
)

// On macOS a process is read with sysctl(3), no `ps` per event:
// kern.proc.pid.PID gives a struct kinfo_proc (p_comm, p_starttime and the
// parent pid in kp_eproc.e_ppid), kern.procargs2.PID the argument area
// (an int32 argc, the executable path, NUL padding, then argc strings).
// The working folder has no sysctl; libproc's proc_pidinfo with the flavor
// PROC_PIDVNODEPATHINFO returns it, called through purego (no cgo).

// From xnu bsd/sys/proc_info.h (apple-oss-distributions/xnu):
//
//	#define PROC_PIDVNODEPATHINFO 9
//	struct vinfo_stat      { ... }            136 bytes (uint32, 2×uint16, uint64, 2×uint32, 8×int64, off_t, int64, 4×uint32, int64[2])
//	struct vnode_info      { vinfo_stat vi_stat; int vi_type; int vi_pad; fsid_t vi_fsid; }   136+4+4+8 = 152
//	struct vnode_info_path { vnode_info vip_vi; char vip_path[MAXPATHLEN]; }                 152+1024 = 1176
//	struct proc_vnodepathinfo { vnode_info_path pvi_cdir; vnode_info_path pvi_rdir; }        2352
//
// so the working folder is the NUL-terminated string at offset 152.
const (
	procPIDVnodePathInfo  = 9
	vnodeInfoSize         = 152
	maxPathLen            = 1024
	procVnodePathInfoSize = 2 * (vnodeInfoSize + maxPathLen)
	libSystemPath         = "/usr/lib/libSystem.B.dylib"
	procArgsMax           = 1 << 20 // kern.argmax is 1 MiB on current macOS
)

// libproc holds proc_pidinfo once it is looked up; a failed lookup leaves
// the working folder unknown, never a crash.
type libproc struct {
	once    sync.Once
	pidinfo func(pid int32, flavor int32, arg uint64, buf unsafe.Pointer, size int32) int32
	err     error
}

func (l *libproc) load() error {
	l.once.Do(func() {
		h, err := purego.Dlopen(libSystemPath, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			l.err = fmt.Errorf("dlopen %s: %w", libSystemPath, err)
			return
		}
		if _, err := purego.Dlsym(h, "proc_pidinfo"); err != nil {
			l.err = fmt.Errorf("dlsym proc_pidinfo: %w", err)
			return
		}
		purego.RegisterLibFunc(&l.pidinfo, h, "proc_pidinfo")
	})
	return l.err
}

// cwd returns the process's working folder, or "" if it cannot be read
// (another user's process, or the process exited).
func (l *libproc) cwd(pid int) string {
	if l.load() != nil {
		return ""
	}
	var buf [procVnodePathInfoSize]byte
	n := l.pidinfo(int32(pid), procPIDVnodePathInfo, 0, unsafe.Pointer(&buf[0]), int32(len(buf)))
	if int(n) != len(buf) {
		return ""
	}
	p := buf[vnodeInfoSize : vnodeInfoSize+maxPathLen]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}

// newProcReader returns a reader with its own libproc handle.
func newProcReader() procReader {
	l := &libproc{}
	return func(pid int) (*liveProc, error) { return readProc(l, pid) }
}

func readProc(l *libproc, pid int) (*liveProc, error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || k == nil || int(k.Proc.P_pid) != pid {
		// x/sys returns EIO when the kernel answers with no entry.
		if err == nil || errors.Is(err, unix.EIO) || errors.Is(err, unix.ESRCH) {
			return nil, errNoProc
		}
		return nil, fmt.Errorf("sysctl kern.proc.pid.%d: %w", pid, err)
	}
	p := &liveProc{
		PID:   pid,
		PPID:  int(k.Eproc.Ppid),
		Comm:  cString(k.Proc.P_comm[:]),
		Start: time.Unix(int64(k.Proc.P_starttime.Sec), int64(k.Proc.P_starttime.Usec)*1000),
		// The real user id (struct pcred's p_ruid in xnu's sys/proc.h),
		// as /proc's first "Uid:" field on Linux.
		UID: int(k.Eproc.Pcred.P_ruid),
	}
	if raw, err := unix.SysctlRaw("kern.procargs2", pid); err == nil && len(raw) <= procArgsMax {
		p.Argv = parseProcArgs(raw)
		p.Exe = parseProcExe(raw)
	}
	p.Cwd = l.cwd(pid)
	return p, nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
