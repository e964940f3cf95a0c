package forktrace

import (
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func itoa(n int) string { return strconv.Itoa(n) }

func mkfifo(p string) error { return syscall.Mkfifo(p, 0o600) }

// eachTracedPython runs f in a subtest for each Python 3.7 or later on the
// machine (the tracer does nothing before os.register_at_fork), with the
// tracer installed into a fresh site folder that records into a fresh
// spool, both in dir.
func eachTracedPython(t *testing.T, f func(t *testing.T, py, dir, spool, site string)) {
	t.Helper()
	for _, py := range testPythons(t) {
		if maj, min := pythonVersion(t, py); maj < 3 || maj == 3 && min < 7 {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"-"+filepath.Base(py), func(t *testing.T) {
			dir := t.TempDir()
			spool, site := filepath.Join(dir, "spool"), filepath.Join(dir, "site")
			if err := CreateRing(spool); err != nil {
				t.Fatal(err)
			}
			installInto(t, site, spool)
			f(t, py, dir, spool, site)
		})
	}
}
