// Package chromium finds a Chromium or Google Chrome executable for tests
// that render a page in a real browser (the history page's test), and
// gives them folders short enough for its socket (NewScratch). On Linux
// the browser is a command on PATH; on macOS it is usually only an app
// bundle: the GitHub macOS runner images install Google Chrome with
// `brew install --cask google-chrome` into /Applications/Google Chrome.app
// and Chrome for Testing into /Applications/Google Chrome for Testing.app,
// with neither on PATH (actions/runner-images
// images/macos/scripts/build/install-chrome.sh).
package chromium

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// Chromium's singleton socket: at start-up the browser makes a fresh folder
// under the temporary folder ($TMPDIR on Linux and macOS, base::GetTempDir)
// named after the product, binds SingletonSocket there and links the
// profile's SingletonSocket to it; a path longer than sun_path ends the
// browser at once: "FATAL:chrome/browser/process_singleton_posix.cc:315]
// Socket path too long: .../org.chromium.Chromium.fFHvrR/SingletonSocket"
// (Debian's chromium, run with a 108-byte TMPDIR). sun_path holds 104
// bytes on macOS (sys/un.h) and 108 on Linux (unix(7)), the terminating
// NUL included. A test home folder can be long (trusttest puts TMPDIR under
// the user's cache folder when /tmp is refused), so every folder a browser
// profile or its TMPDIR lives in comes from NewScratch.

// socketTail is what Chromium puts after the temporary folder, with its
// product name (Google Chrome's "com.google.Chrome.XXXXXX" is shorter).
const socketTail = "/org.chromium.Chromium.XXXXXX/SingletonSocket"

// SunPathMax is the size of sockaddr_un's sun_path on goos, NUL included.
func SunPathMax(goos string) int {
	switch goos {
	case "linux":
		return 108
	default: // darwin and the BSDs
		return 104
	}
}

// SocketFits reports whether Chromium's singleton socket fits under tmp.
func SocketFits(tmp, goos string) bool {
	return len(tmp)+len(socketTail) < SunPathMax(goos)
}

// Scratch is one browser run's folders: Profile for --user-data-dir and
// Tmp for TMPDIR, both under Dir, which is short whatever $HOME or $TMPDIR.
type Scratch struct {
	Dir, Profile, Tmp string
}

// scratchName is NewScratch's pattern: MkdirTemp adds up to 10 digits.
const scratchName = "fwc-"

// NewScratch makes the folders under os.TempDir() when Chromium's socket
// fits there, else under /tmp (which macOS links to /private/tmp), each
// created 0700 by os.MkdirTemp. Remove deletes them.
func NewScratch(goos string) (*Scratch, error) {
	base := os.TempDir()
	if !SocketFits(filepath.Join(base, scratchName+"0123456789", "t"), goos) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, scratchName)
	if err != nil {
		return nil, fmt.Errorf("browser scratch folder: %w", err)
	}
	s := &Scratch{Dir: dir, Profile: filepath.Join(dir, "p"), Tmp: filepath.Join(dir, "t")}
	for _, d := range []string{s.Profile, s.Tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("browser scratch folder: %w", err)
		}
	}
	if !SocketFits(s.Tmp, goos) {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("browser scratch folder %s: no room for Chromium's socket (%d bytes on %s)", dir, SunPathMax(goos), goos)
	}
	return s, nil
}

// Env is environ with TMPDIR set to s.Tmp (replacing any TMPDIR).
func (s *Scratch) Env(environ []string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "TMPDIR=") {
			out = append(out, kv)
		}
	}
	return append(out, "TMPDIR="+s.Tmp)
}

// Remove deletes the folders.
func (s *Scratch) Remove() error { return os.RemoveAll(s.Dir) }
