package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"howett.net/plist"
)

// runReleaseDryRun is `go run ./build release-dry-run [-tag v1.2.3] [-out DIR]`
// (`make release-dry-run TAG=...`): what the release workflow does for a
// tag, minus what needs a Mac (cgo, lipo, codesign, notarization): it builds
// the bundle for that tag, zips it with the commit's time, renders the cask,
// and checks that they agree (verifyRelease).
func runReleaseDryRun(args []string) error {
	fs := flag.NewFlagSet("release-dry-run", flag.ContinueOnError)
	tag := fs.String("tag", "v1.2.3", "the release tag to rehearse")
	out := fs.String("out", "", "output folder (default: a temporary one, removed afterwards)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rel, err := parseReleaseTag(*tag)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "forkwatch-release-dry-run-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if err := runApp([]string{"-out", dir, "-version", rel.Tag}); err != nil {
		return err
	}
	if err := verifyRelease(dir, rel, entryTime(commitTime())); err != nil {
		return fmt.Errorf("release dry run for %s: %w", rel.Tag, err)
	}
	fmt.Printf("release dry run for %s: ok (%s, %s)\n", rel.Tag, zipName(rel), releaseURL(rel))
	return nil
}

// runVerifyRelease is `go run ./build verify-release -dir dist -tag TAG`:
// verifyRelease on the outputs of a real release build (after
// notarization and `go run ./build package`).
func runVerifyRelease(args []string) error {
	fs := flag.NewFlagSet("verify-release", flag.ContinueOnError)
	dir := fs.String("dir", "dist", "the folder with Forkwatch.app, the zip, its .sha256 and forkwatch.rb")
	tag := fs.String("tag", "", "the release tag they were built for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rel, err := parseReleaseTag(*tag)
	if err != nil {
		return err
	}
	if err := verifyRelease(*dir, rel, entryTime(commitTime())); err != nil {
		return fmt.Errorf("release %s: %w", rel.Tag, err)
	}
	fmt.Printf("release %s: %s, cask %s, URL %s: ok\n", rel.Tag, zipName(rel), rel.Version, releaseURL(rel))
	return nil
}

// runTag is `go run ./build tag TAG`: fails unless TAG is a release tag,
// and prints what the release will carry.
func runTag(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: go run ./build tag vX.Y.Z[-pre]")
	}
	rel, err := parseReleaseTag(args[0])
	if err != nil {
		return err
	}
	fmt.Printf("tag %s: version %s, bundle %s, pre-release %v, %s\n", rel.Tag, rel.Version, rel.Short, rel.Prerelease, releaseURL(rel))
	return nil
}

// verifyRelease checks the outputs of a release build in dir against each
// other and against the tag: the cask's version and URL are the tag's, its
// sha256 is the zip's and the .sha256 file's, it parses as Ruby (`ruby -c`,
// the part of `brew style` that runs without Homebrew), its minimum macOS
// is minimumMacOS; every zip entry carries the time mod; the zipped
// Info.plist has the tag's X.Y.Z and LSMinimumSystemVersion minimumMacOS;
// the bundle passes checkBundle.
func verifyRelease(dir string, rel release, mod time.Time) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	zipPath := filepath.Join(dir, zipName(rel))
	data, err := os.ReadFile(zipPath)
	if err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	if line, err := os.ReadFile(zipPath + ".sha256"); err != nil {
		bad("checksum file: %v", err)
	} else if want := sum + "  " + zipName(rel) + "\n"; string(line) != want {
		bad("%s.sha256 says %q, want %q", zipName(rel), line, want)
	}

	caskPath := filepath.Join(dir, "forkwatch.rb")
	cask, err := os.ReadFile(caskPath)
	if err != nil {
		return fmt.Errorf("cask: %w", err)
	}
	facts, err := readCask(cask)
	if err != nil {
		bad("%v", err)
	}
	wantMacOS, err := caskMacOS(minimumMacOS)
	if err != nil {
		bad("%v", err)
	}
	if facts.Version != rel.Version {
		bad("cask version %q, want %q (tag %s)", facts.Version, rel.Version, rel.Tag)
	}
	if facts.URL != releaseURL(rel) {
		bad("cask URL %q, want %q", facts.URL, releaseURL(rel))
	}
	if facts.SHA256 != sum {
		bad("cask sha256 %s, zip's %s", facts.SHA256, sum)
	}
	if facts.MacOS != wantMacOS {
		bad("cask depends_on macos: %q, want %q (minimumMacOS %s)", facts.MacOS, wantMacOS, minimumMacOS)
	}
	if err := rubySyntax(caskPath); err != nil {
		bad("%v", err)
	}

	if err := checkZip(data, rel, mod); err != nil {
		bad("%v", err)
	}
	if err := checkBundle(filepath.Join(dir, "Forkwatch.app")); err != nil {
		bad("bundle: %v", err)
	}
	return errors.Join(errs...)
}

// checkZip reads the zip as an unzipper does: every entry has the time mod
// (never 2098, never before 1980), the executable keeps its mode, and the
// zipped Info.plist has the tag's version and the minimum macOS.
func checkZip(data []byte, rel release, mod time.Time) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("zip does not open: %w", err)
	}
	var errs []error
	var plistData []byte
	exe := false
	for _, f := range zr.File {
		if !f.Modified.Equal(mod) {
			errs = append(errs, fmt.Errorf("zip entry %s dated %s, want %s", f.Name, f.Modified.UTC().Format(time.RFC3339), mod.UTC().Format(time.RFC3339)))
		}
		switch f.Name {
		case "Forkwatch.app/Contents/MacOS/forkwatch":
			exe = f.Mode().Perm()&0o111 != 0
		case "Forkwatch.app/Contents/Info.plist":
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("zip: %w", err)
			}
			plistData, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("zip: %w", err)
			}
		}
	}
	if !exe {
		errs = append(errs, errors.New("zip: Forkwatch.app/Contents/MacOS/forkwatch missing or not executable"))
	}
	var info struct {
		Short string `plist:"CFBundleShortVersionString"`
		Min   string `plist:"LSMinimumSystemVersion"`
	}
	if _, err := plist.Unmarshal(plistData, &info); err != nil {
		errs = append(errs, fmt.Errorf("zipped Info.plist: %w", err))
	} else {
		if info.Short != rel.Short {
			errs = append(errs, fmt.Errorf("zipped Info.plist: CFBundleShortVersionString %q, want %q", info.Short, rel.Short))
		}
		if info.Min != minimumMacOS {
			errs = append(errs, fmt.Errorf("zipped Info.plist: LSMinimumSystemVersion %q, want %q", info.Min, minimumMacOS))
		}
	}
	return errors.Join(errs...)
}

// rubySyntax runs `ruby -c` on a file: Ruby's own parser, without
// Homebrew. Debian's ruby package provides it (.ci/run, build/deps.sh);
// macOS ships /usr/bin/ruby.
func rubySyntax(path string) error {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		return fmt.Errorf("ruby -c %s: ruby not found (apt-get install ruby): %w", path, err)
	}
	out, err := exec.Command(ruby, "-c", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Syntax OK") {
		return fmt.Errorf("ruby -c %s: %v\n%s", path, err, out)
	}
	return nil
}
