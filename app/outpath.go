package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// outputFile checks a file a command was asked to write (doctor --html,
// history --page --out) before any work: its folder must exist and be a
// folder. Forkwatch never creates the folders of a path it was given (a
// typo would otherwise make folders anywhere, mode 0700, even at the
// root); the error says which folder is missing. It returns the absolute
// path, which the command prints once written.
func outputFile(flag, p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, p, err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("%s %s is a folder: give the file to write, e.g. %s", flag, p, filepath.Join(p, "page.html"))
	}
	dir := filepath.Dir(abs)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s %s: the folder %s does not exist (Forkwatch does not create it): create it first or choose another file", flag, p, dir)
	case err != nil:
		return "", fmt.Errorf("%s %s: cannot use the folder %s: %w", flag, p, dir, err)
	case !fi.IsDir():
		return "", fmt.Errorf("%s %s: %s is not a folder", flag, p, dir)
	}
	return abs, nil
}
