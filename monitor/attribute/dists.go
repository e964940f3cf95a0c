package attribute

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// errNotOwned means a folder is not the user's own, or others can write
// to it: its listing is not evidence Forkwatch trusts.
var errNotOwned = errors.New("not owned by this user or writable by others")

// maxDists bounds how many names a listing returns.
const maxDists = 4096

// listDists lists the *.dist-info folder names in a venv's site-packages
// (VENV/lib/pythonX.Y/site-packages). It reads directory listings only,
// never a file's contents, and only when the venv, its lib folder and the
// site-packages folder are owned by this user and not writable by group or
// others: a path from a crash report or another process is data.
func listDists(venv string) ([]string, error) {
	if !filepath.IsAbs(venv) {
		return nil, fmt.Errorf("venv %q: not an absolute path", venv)
	}
	if err := ownedByMe(venv); err != nil {
		return nil, err
	}
	lib := filepath.Join(venv, "lib")
	if err := ownedByMe(lib); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(lib)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", lib, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "python") {
			continue
		}
		sp := filepath.Join(lib, e.Name(), "site-packages")
		if err := ownedByMe(sp); err != nil {
			continue
		}
		names, err := os.ReadDir(sp)
		if err != nil {
			continue
		}
		for _, n := range names {
			if strings.HasSuffix(n.Name(), ".dist-info") && len(out) < maxDists {
				out = append(out, n.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// ownedByMe checks that p (not followed if a symlink) is a folder owned
// by this user that neither group nor others can write.
func ownedByMe(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w", p, fs.ErrInvalid)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s: %w", p, errNotOwned)
	}
	return nil
}
