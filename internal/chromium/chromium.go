// Package chromium finds a Chromium or Google Chrome executable for tests
// that render a page in a real browser (the history page's test). On Linux
// the browser is a command on PATH; on macOS it is usually only an app
// bundle: the GitHub macOS runner images install Google Chrome with
// `brew install --cask google-chrome` into /Applications/Google Chrome.app
// and Chrome for Testing into /Applications/Google Chrome for Testing.app,
// with neither on PATH (actions/runner-images
// images/macos/scripts/build/install-chrome.sh).
package chromium

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// Names are the commands tried on PATH, in order: Debian's and Ubuntu's
// packages, then Google's Linux package.
var Names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Apps are the macOS app bundles tried, each with its executable inside
// Contents/MacOS, under /Applications and then ~/Applications (where
// Homebrew puts casks with --appdir=~/Applications).
var Apps = []string{
	"Google Chrome.app/Contents/MacOS/Google Chrome",
	"Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
	"Chromium.app/Contents/MacOS/Chromium",
}

// ErrNotFound says no browser was found.
var ErrNotFound = errors.New("no Chromium or Google Chrome: not on PATH (" +
	"chromium, google-chrome) and no /Applications/Google Chrome.app")

// Finder looks for the browser; its fields are what differs between
// machines, so that the search itself is tested anywhere.
type Finder struct {
	GOOS     string                            // "darwin" adds the app bundles
	LookPath func(string) (string, error)      // exec.LookPath
	AppDirs  []string                          // /Applications, ~/Applications
	Stat     func(string) (fs.FileInfo, error) // os.Stat
}

// Find is the browser on this machine.
func Find(goos string) (string, error) {
	f := Finder{GOOS: goos, LookPath: exec.LookPath, Stat: os.Stat, AppDirs: []string{"/Applications"}}
	if home, err := os.UserHomeDir(); err == nil {
		f.AppDirs = append(f.AppDirs, filepath.Join(home, "Applications"))
	}
	return f.Find()
}

// Find returns the first of Names on PATH, then on darwin the first of
// Apps that is an executable file.
func (f Finder) Find() (string, error) {
	for _, name := range Names {
		if p, err := f.LookPath(name); err == nil {
			return p, nil
		}
	}
	if f.GOOS != "darwin" {
		return "", ErrNotFound
	}
	for _, dir := range f.AppDirs {
		for _, app := range Apps {
			p := filepath.Join(dir, filepath.FromSlash(app))
			if fi, err := f.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", ErrNotFound
}
