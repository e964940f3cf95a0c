package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/forkwatch/forkwatch/app/internal/wording"
)

// checkFolders looks at the folders watch is about to watch before the
// watcher starts. A path that is a file (or anything but a folder) is a
// usage error naming it as such, instead of the watcher's later "cannot
// read FILE/Retired: not a directory". Folders that do not exist yet are
// fine (the watcher picks them up when they appear: macOS creates
// DiagnosticReports at the first crash), but are said once, with what to
// do, in notes: a mistyped --reports-dir is otherwise waited on in silence.
func checkFolders(wf *watchFlags, given bool, goos string) (notes []string, err error) {
	var missing []string
	dirs := append([]string(nil), wf.reportDirs...)
	if wf.coresDir != "" {
		dirs = append(dirs, wf.coresDir)
	}
	for _, d := range dirs {
		fi, serr := os.Stat(d)
		switch {
		case serr == nil && !fi.IsDir():
			flag := "--reports-dir"
			if d == wf.coresDir {
				flag = "--cores-dir"
			}
			return nil, usagef("%s %s is a file, not a folder: give the folder that holds the crash reports", flag, d)
		case errors.Is(serr, fs.ErrNotExist):
			missing = append(missing, d)
		case serr != nil && !errors.Is(serr, fs.ErrPermission):
			return nil, fmt.Errorf("%s: %s", d, wording.StatReason(serr))
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	what := "does not exist yet"
	if len(missing) > 1 {
		what = "do not exist yet"
	}
	note := fmt.Sprintf("%s %s; watching for %s to appear", strings.Join(missing, ", "), what, wording.Plural(len(missing), "it", "them"))
	switch {
	case given:
		note += " (check the spelling of --reports-dir / --cores-dir)"
	case goos != "darwin":
		note += " (these are macOS's folders; on " + goos + " give the folder to watch with --reports-dir DIR)"
	default:
		note += " (macOS creates it at the first crash report)"
	}
	return []string{note}, nil
}
