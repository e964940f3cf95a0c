package appinfo

import (
	"fmt"
	"os"
	"syscall"
)

// PrivateSupportDir makes the support folder (the history database, the
// state, the tracer's spool and registry: command lines, project paths)
// 0700, creating it if needed; a folder an earlier version made 0755 is
// tightened. A folder that is a link or someone else's is left alone and
// reported: it is not ours to change.
func PrivateSupportDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d", dir, st.Uid)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("chmod %s: %w", dir, err)
		}
	}
	return nil
}
