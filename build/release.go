package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"howett.net/plist"
)

// allowedEntitlements lists the hardened-runtime entitlements Forkwatch may
// carry, each with the reason. Empty on purpose (see build/entitlements.plist).
var allowedEntitlements = map[string]string{}

// checkEntitlements parses an entitlements plist and refuses any key that
// is not allowed, and any that is never acceptable in a release.
func checkEntitlements(data []byte) error {
	var ents map[string]any
	if _, err := plist.Unmarshal(data, &ents); err != nil {
		return fmt.Errorf("entitlements do not parse as a property-list dictionary: %w", err)
	}
	var bad []string
	for k := range ents {
		if k == "com.apple.security.get-task-allow" {
			bad = append(bad, k+" (debugging entitlement: notarization rejects it)")
			continue
		}
		if _, ok := allowedEntitlements[k]; !ok {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		return fmt.Errorf("entitlements not allowed: %s (add them to allowedEntitlements in build/release.go with the reason)", strings.Join(bad, ", "))
	}
	return nil
}

var (
	reShortVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	reBuildVersion = regexp.MustCompile(`^\d+(\.\d+){0,2}$`) // CFBundleVersion: one to three integers
	reBundleID     = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
)

// checkBundle validates a built Forkwatch.app: the layout macOS expects,
// the Info.plist keys (and their forms), an executable that is a Mach-O
// binary, the icon, PkgInfo, and nothing else at the top of Contents.
func checkBundle(app string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !strings.HasSuffix(app, ".app") {
		bad("%s: a bundle's name ends in .app", app)
	}
	contents := filepath.Join(app, "Contents")
	data, err := os.ReadFile(filepath.Join(contents, "Info.plist"))
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	var info map[string]any
	if _, err := plist.Unmarshal(data, &info); err != nil {
		return fmt.Errorf("bundle: Info.plist does not parse: %w", err)
	}
	str := func(k string) string {
		v, ok := info[k].(string)
		if !ok {
			bad("Info.plist: %s missing or not a string", k)
		}
		return v
	}
	exe := str("CFBundleExecutable")
	if id := str("CFBundleIdentifier"); !reBundleID.MatchString(id) {
		bad("Info.plist: CFBundleIdentifier %q is not reverse-DNS", id)
	}
	str("CFBundleName")
	if v := str("CFBundlePackageType"); v != "APPL" {
		bad("Info.plist: CFBundlePackageType %q, want APPL", v)
	}
	if v := str("CFBundleShortVersionString"); !reShortVersion.MatchString(v) {
		bad("Info.plist: CFBundleShortVersionString %q, want X.Y.Z", v)
	}
	if v := str("CFBundleVersion"); !reBuildVersion.MatchString(v) {
		bad("Info.plist: CFBundleVersion %q, want one to three period-separated integers (macOS ignores a fourth)", v)
	}
	if v := str("LSMinimumSystemVersion"); v != minimumMacOS {
		bad("Info.plist: LSMinimumSystemVersion %q, want %q (minimumMacOS in build/cask.go)", v, minimumMacOS)
	}
	if v, ok := info["LSUIElement"].(bool); !ok || !v {
		bad("Info.plist: LSUIElement must be true (a menu-bar app has no Dock icon)")
	}
	icon := str("CFBundleIconFile")
	if exe != "" {
		p := filepath.Join(contents, "MacOS", exe)
		if fi, err := os.Stat(p); err != nil {
			bad("executable: %v", err)
		} else if fi.Mode()&0o111 == 0 || !fi.Mode().IsRegular() {
			bad("executable %s is not an executable file (%v)", p, fi.Mode())
		} else if head, err := readHead(p, 4); err != nil || !isMachO(head) {
			bad("executable %s is not a Mach-O binary", p)
		}
	}
	if icon != "" {
		if !strings.HasSuffix(icon, ".icns") {
			icon += ".icns"
		}
		if head, err := readHead(filepath.Join(contents, "Resources", icon), 4); err != nil || string(head) != "icns" {
			bad("icon Resources/%s missing or not an .icns file", icon)
		}
	}
	if b, err := os.ReadFile(filepath.Join(contents, "PkgInfo")); err != nil || string(b) != "APPL????" {
		bad("PkgInfo missing or not APPL????")
	}
	entries, err := os.ReadDir(contents)
	if err != nil {
		return err
	}
	allowed := map[string]bool{"MacOS": true, "Resources": true, "Info.plist": true, "PkgInfo": true, "_CodeSignature": true, "CodeResources": true}
	for _, e := range entries {
		if !allowed[e.Name()] {
			bad("unexpected Contents/%s (codesign rejects stray files at the top of Contents)", e.Name())
		}
	}
	return errors.Join(errs...)
}

func readHead(p string, n int) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	_, err = f.Read(b)
	return b, err
}

// isMachO recognises 64-bit Mach-O (MH_MAGIC_64, little-endian) and
// universal (FAT_MAGIC, big-endian) headers.
func isMachO(head []byte) bool {
	return bytes.Equal(head, []byte{0xcf, 0xfa, 0xed, 0xfe}) || bytes.Equal(head, []byte{0xca, 0xfe, 0xba, 0xbe})
}

// runReleaseCheck is `go run ./build release-check [-app PATH] [-entitlements PATH]`:
// without -app it builds the bundle (as `go run ./build app` does, into a
// temporary folder) and checks that.
func runReleaseCheck(args []string) error {
	fs := flag.NewFlagSet("release-check", flag.ContinueOnError)
	app := fs.String("app", "", "an existing Forkwatch.app to check (default: build one)")
	ents := fs.String("entitlements", filepath.Join("build", "entitlements.plist"), "entitlements file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*ents)
	if err != nil {
		return fmt.Errorf("entitlements: %w", err)
	}
	if err := checkEntitlements(data); err != nil {
		return fmt.Errorf("%s: %w", *ents, err)
	}
	fmt.Println("entitlements:", *ents, "ok")
	if *app == "" {
		tmp, err := os.MkdirTemp("", "forkwatch-release-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		const tag = "v0.0.0-check"
		if err := runApp([]string{"-out", tmp, "-version", tag}); err != nil {
			return err
		}
		*app = filepath.Join(tmp, "Forkwatch.app")
		rel, err := parseReleaseTag(tag)
		if err != nil {
			return err
		}
		if err := verifyRelease(tmp, rel, entryTime(commitTime())); err != nil {
			return fmt.Errorf("release outputs: %w", err)
		}
		fmt.Println("zip, checksum and cask for", tag, "ok")
	}
	if err := checkBundle(*app); err != nil {
		return fmt.Errorf("%s: %w", *app, err)
	}
	fmt.Println("bundle:", *app, "ok")
	return nil
}
