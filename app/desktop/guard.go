package desktop

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotOpened: a path from a crash report (its project, its own path)
// that is not what the menu item claims it is, so nothing is opened.
var ErrNotOpened = errors.New("not opened")

// bundleExts are folder names that macOS opens by launching or loading
// them rather than showing them (application, plug-in, framework, kernel
// extension and other CFBundle wrappers): a project "folder" named
// /Users/Shared/Evil.app would run an app on "open".
var bundleExts = map[string]bool{
	".app": true, ".bundle": true, ".framework": true, ".plugin": true, ".kext": true,
	".appex": true, ".xpc": true, ".prefpane": true, ".qlgenerator": true, ".mdimporter": true,
	".saver": true, ".component": true, ".systemextension": true, ".dext": true, ".wdgt": true,
	".action": true, ".workflow": true, ".service": true, ".pkg": true, ".mpkg": true,
}

// isBundleName says whether a folder name is one of bundleExts.
func isBundleName(name string) bool {
	return bundleExts[strings.ToLower(filepath.Ext(name))]
}

// checkAbsolute refuses anything that is not a clean absolute path: a
// relative name, a URL ("https:/evil.example", "javascript:…", which an
// opener would hand to a browser), an option ("-a/Applications/…"), a path
// with "..", or one holding control characters.
func checkAbsolute(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty path: %w", ErrNotOpened)
	case !strings.HasPrefix(p, "/") || filepath.Clean(p) != p:
		return fmt.Errorf("%q is not a clean absolute path: %w", p, ErrNotOpened)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%q holds control characters: %w", p, ErrNotOpened)
	}
	return nil
}

// CheckProjectFolder returns the folder Open Project Folder may show: an
// absolute path to an existing folder that is not a bundle, neither as
// named nor where its links lead.
func CheckProjectFolder(p string) (string, error) {
	if err := checkAbsolute(p); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("project folder %s: %w", p, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("project folder %s: %w", p, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("project folder %s is not a folder: %w", p, ErrNotOpened)
	}
	for _, q := range []string{p, real} {
		if isBundleName(q) {
			return "", fmt.Errorf("project folder %s is an application or plug-in bundle: %w", p, ErrNotOpened)
		}
	}
	return real, nil
}

// CheckReportFile returns the report Open Report may open: an existing
// regular file (not a link, not a FIFO or device) inside one of the
// watched report folders (their Retired subfolders included).
func CheckReportFile(p string, dirs []string) (string, error) {
	if err := checkAbsolute(p); err != nil {
		return "", err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return "", fmt.Errorf("report %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("report %s is not a regular file: %w", p, ErrNotOpened)
	}
	realDir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return "", fmt.Errorf("report %s: %w", p, err)
	}
	for _, d := range dirs {
		rd, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue
		}
		if realDir == rd || strings.HasPrefix(realDir, rd+string(filepath.Separator)) {
			return filepath.Join(realDir, filepath.Base(p)), nil
		}
	}
	return "", fmt.Errorf("report %s is not in a watched folder (%s): %w", p, strings.Join(dirs, ", "), ErrNotOpened)
}

// Guarded checks what a crash report implies before the desktop
// opens it: every Open Report and Open Project Folder, from the menu and
// from a notification, goes through it (tray.NewController wraps its
// Desktop; `watch --notify` wraps its own). ReportDirs are the watched report
// folders.
type Guarded struct {
	Desktop
	ReportDirs []string
}

func (g Guarded) OpenReport(ctx context.Context, p string) error {
	real, err := CheckReportFile(p, g.ReportDirs)
	if err != nil {
		return err
	}
	return g.Desktop.OpenReport(ctx, real)
}

func (g Guarded) OpenFolder(ctx context.Context, p string) error {
	real, err := CheckProjectFolder(p)
	if err != nil {
		return err
	}
	return g.Desktop.OpenFolder(ctx, real)
}

// FileURL is p as a file:// URL (net/url escapes it), so that an opener
// cannot read it as an option or as another scheme.
func FileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: p}).String()
}
