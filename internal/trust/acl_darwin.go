//go:build darwin

package trust

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The ACL of one path through libSystem, without cgo (purego):
//
//	acl_t acl_get_link_np(const char *path, acl_type_t type);  // ACL_TYPE_EXTENDED = 0x100
//	char *acl_to_text(acl_t acl, ssize_t *len_p);
//	int   acl_free(void *obj_p);
//
// (sys/acl.h; acl_get_file(3): "acl_get_link_np() ... does not follow
// symlinks"; a file with no ACL gives NULL with errno ENOENT.) The link
// variant, because check looks at every name itself and follows links on
// its own.
const aclTypeExtended = 0x00000100

var libACL struct {
	once                  sync.Once
	err                   error
	getLink, toText, free uintptr
}

func loadACL() error {
	libACL.once.Do(func() {
		h, err := purego.Dlopen("/usr/lib/libSystem.B.dylib", purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			libACL.err = fmt.Errorf("load libSystem: %w", err)
			return
		}
		for name, p := range map[string]*uintptr{"acl_get_link_np": &libACL.getLink, "acl_to_text": &libACL.toText, "acl_free": &libACL.free} {
			if *p, err = purego.Dlsym(h, name); err != nil {
				libACL.err = fmt.Errorf("find %s: %w", name, err)
				return
			}
		}
	})
	return libACL.err
}

// extendedACL returns path's ACL as acl_to_text writes it, or "" when it
// has none.
func extendedACL(path string) (string, error) {
	if err := loadACL(); err != nil {
		return "", err
	}
	cpath, err := syscall.BytePtrFromString(path)
	if err != nil {
		return "", err
	}
	acl, _, errno := purego.SyscallN(libACL.getLink, uintptr(unsafe.Pointer(cpath)), aclTypeExtended)
	if acl == 0 {
		switch syscall.Errno(errno) {
		case syscall.ENOENT:
			return "", nil // no ACL
		case syscall.ENOTSUP, syscall.EOPNOTSUPP:
			return "", nil // a volume without ACLs (FAT, some network shares)
		}
		return "", fmt.Errorf("read ACL: %w", syscall.Errno(errno))
	}
	defer purego.SyscallN(libACL.free, acl)
	var n int64
	text, _, errno := purego.SyscallN(libACL.toText, acl, uintptr(unsafe.Pointer(&n)))
	if text == 0 {
		return "", fmt.Errorf("ACL to text: %w", syscall.Errno(errno))
	}
	defer purego.SyscallN(libACL.free, text)
	if n < 0 || n > 1<<20 {
		return "", fmt.Errorf("ACL text of %d bytes", n)
	}
	// The C string, read through a copy of the word as purego itself does
	// (func.go), not by converting a uintptr, which vet's unsafeptr check
	// refuses; acl_free releases it after the copy into a Go string.
	p := *(**byte)(unsafe.Pointer(&text))
	return string(unsafe.Slice(p, n)), nil
}
