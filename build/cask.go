package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// minimumMacOS is the oldest macOS Forkwatch runs on. It is the one value
// behind LSMinimumSystemVersion in Info.plist, MACOSX_DEPLOYMENT_TARGET for
// cgo builds, and the cask's `depends_on macos:`. Go 1.25 and later require
// macOS 12 Monterey ("Go 1.25 requires macOS 12 Monterey or later; support
// for previous versions has been discontinued", https://go.dev/doc/go1.25#darwin,
// golang/go#69839), and go.mod asks for Go 1.26, so 11.0 would be a promise
// the binary cannot keep. Go 1.26 is the last release that runs on macOS 12
// (https://go.dev/doc/go1.26#darwin): moving to Go 1.27 means 13.0 here.
const minimumMacOS = "12.0"

// homebrewMacOS maps a macOS major version to the symbol Homebrew's
// `depends_on macos:` takes (MacOSVersion::SYMBOLS in Homebrew/brew
// Library/Homebrew/macos_version.rb; docs/Cask-Cookbook.md, "Setting a
// minimum macOS release").
var homebrewMacOS = map[string]string{
	"12": "monterey",
	"13": "ventura",
	"14": "sonoma",
	"15": "sequoia",
	"26": "tahoe",
}

// caskMacOS is the cask's `depends_on macos:` value for minimumMacOS, a
// bare symbol such as `:monterey`, which means "this release or newer".
// Homebrew deprecated the string comparison form (`">= :monterey"`):
// current brew warns "Calling string comparison format for `depends_on
// macos:` is deprecated! Use `depends_on macos: :monterey` instead" on
// every command that loads the cask, and `brew style`'s
// Homebrew/OSDependsOn cop asks for the symbol (coder/coder-desktop-macos#253,
// Shopify/homebrew-shopify#1310; Homebrew 5.1.11 made the bare symbol mean
// ">=", per pasrom/meeting-transcriber#570).
func caskMacOS(min string) (string, error) {
	major, _, _ := strings.Cut(min, ".")
	sym, ok := homebrewMacOS[major]
	if !ok {
		return "", fmt.Errorf("macOS %s has no Homebrew symbol in homebrewMacOS (build/cask.go)", min)
	}
	return ":" + sym, nil
}

// reReleaseTag is a release tag: vMAJOR.MINOR or vMAJOR.MINOR.PATCH,
// optionally with one pre-release word (v1.2.3-rc1, v1.2.3-beta.2). It has
// no second hyphen, so `git describe` output past a tag (v1.2.3-4-gabcdef)
// is never taken for a release.
var reReleaseTag = regexp.MustCompile(`^v(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z][0-9A-Za-z.]*))?$`)

// release is what a tag says about the build: the version the cask and
// the zip carry (the tag without its "v": 1.2.3-rc1) and the X.Y.Z that
// CFBundleShortVersionString must be (1.2.3; v1.2 gives 1.2.0).
type release struct {
	Tag, Version, Short string
	Prerelease          bool
}

// parseReleaseTag reads a release tag; anything else is an error, so that
// a tagged build never falls back to 0.0.0 or drops a pre-release suffix
// (which would point the cask at a download that does not exist).
func parseReleaseTag(tag string) (release, error) {
	m := reReleaseTag.FindStringSubmatch(tag)
	if m == nil || strings.HasSuffix(tag, "-dirty") {
		return release{}, fmt.Errorf("tag %q is not a release tag (vX.Y, vX.Y.Z or vX.Y.Z-pre, e.g. v1.2.3-rc1)", tag)
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	return release{
		Tag:        tag,
		Version:    strings.TrimPrefix(tag, "v"),
		Short:      m[1] + "." + m[2] + "." + patch,
		Prerelease: m[4] != "",
	}, nil
}

// releaseFor is the release a build stamps: the tag's when version is a
// release tag (`make app` on a tagged commit, or the workflow's
// -version "$GITHUB_REF_NAME"), else a development build whose zip and cask
// carry the X.Y.Z the bundle has (0.0.0 before any tag) and are never
// published.
func releaseFor(version string) release {
	if r, err := parseReleaseTag(version); err == nil {
		return r
	}
	short, _ := versionsFrom(version, 0)
	return release{Tag: "v" + short, Version: short, Short: short}
}

// caskTemplate is the cask, with {{VERSION}}, {{SHA256}} and {{MACOS}} to
// fill. Plain replacement rather than text/template: the file is Ruby and
// carries its own #{...} interpolation.
const caskTemplatePath = "build/forkwatch.rb.tmpl"

// renderCask fills the cask template with the release version, the zip's
// checksum and the minimum macOS, and refuses a result with a placeholder
// left or a version that would not round-trip through the URL.
func renderCask(version, sha string) ([]byte, error) {
	tmpl, err := os.ReadFile(filepath.FromSlash(caskTemplatePath))
	if err != nil {
		return nil, fmt.Errorf("read cask template: %w", err)
	}
	return renderCaskText(string(tmpl), version, sha, minimumMacOS)
}

var (
	reSHA256      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	reCaskVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*(-[0-9A-Za-z.]+)?$`)
)

func renderCaskText(tmpl, version, sha, minOS string) ([]byte, error) {
	if !reSHA256.MatchString(sha) {
		return nil, fmt.Errorf("cask: bad sha256 %q", sha)
	}
	if !reCaskVersion.MatchString(version) {
		return nil, fmt.Errorf("cask: bad version %q", version)
	}
	macos, err := caskMacOS(minOS)
	if err != nil {
		return nil, err
	}
	s := strings.NewReplacer("{{VERSION}}", version, "{{SHA256}}", sha, "{{MACOS}}", macos).Replace(tmpl)
	if i := strings.Index(s, "{{"); i >= 0 {
		end := min(i+20, len(s))
		return nil, fmt.Errorf("cask: placeholder left after rendering: %q", s[i:end])
	}
	return []byte(s), nil
}

// caskFacts are what a rendered cask promises: its version, the download
// URL with #{version} expanded as Homebrew does, the checksum and the
// minimum macOS.
type caskFacts struct {
	Version, URL, SHA256, MacOS string
}

var (
	reCaskVersionLine = regexp.MustCompile(`(?m)^\s*version "([^"]*)"\s*$`)
	reCaskSHALine     = regexp.MustCompile(`(?m)^\s*sha256 "([^"]*)"\s*$`)
	reCaskURLLine     = regexp.MustCompile(`(?m)^\s*url "([^"]*)"`)
	reCaskMacOSLine   = regexp.MustCompile(`(?m)^\s*depends_on macos: (:[a-z_]+)\s*$`)
)

// readCask pulls the facts out of a rendered cask. It reads only the
// simple one-line stanzas build/forkwatch.rb.tmpl uses; `ruby -c` checks
// the syntax of the whole file.
func readCask(cask []byte) (caskFacts, error) {
	var f caskFacts
	var errs []error
	get := func(re *regexp.Regexp, name string) string {
		m := re.FindSubmatch(cask)
		if m == nil {
			errs = append(errs, fmt.Errorf("cask has no %s line", name))
			return ""
		}
		return string(m[1])
	}
	f.Version = get(reCaskVersionLine, "version")
	f.SHA256 = get(reCaskSHALine, "sha256")
	f.URL = strings.ReplaceAll(get(reCaskURLLine, "url"), "#{version}", f.Version)
	f.MacOS = get(reCaskMacOSLine, "depends_on macos:")
	return f, errors.Join(errs...)
}

// releaseURL is where the release workflow uploads the zip of a tag.
func releaseURL(r release) string {
	return "https://github.com/forkwatch/forkwatch/releases/download/" + r.Tag + "/" + zipName(r)
}

func zipName(r release) string { return "Forkwatch-" + r.Version + ".zip" }

// zipEpoch is the earliest time a zip entry can carry: MS-DOS dates count
// years from 1980 in 7 bits, so archive/zip turns 1970 (time.Unix(0, 0))
// into 1970-1980 = -10, which wraps to 2098 (APPNOTE.TXT 4.4.6,
// https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT).
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// entryTime is the modification time every zip entry gets: the commit's
// time (reproducible: the same commit gives the same zip), or 1980-01-01
// outside a git checkout or for a commit older than the zip format allows.
func entryTime(commitUnix int64) time.Time {
	t := time.Unix(commitUnix, 0).UTC()
	if commitUnix <= 0 || t.Before(zipEpoch) {
		return zipEpoch
	}
	return t
}

// commitTime is HEAD's committer time, or 0 outside a git checkout.
func commitTime() int64 {
	var t int64
	fmt.Sscan(gitOutput("log", "-1", "--format=%ct"), &t)
	return t
}
