package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackmordaunt/icns/v3"
	"howett.net/plist"
)

func TestVersionsFrom(t *testing.T) {
	for _, tc := range []struct{ in, short, build string }{
		{"v1.2.3", "1.2.3", "1.2.42"},
		{"v1.2.3-4-gabcdef-dirty", "1.2.3", "1.2.42"},
		{"v1.2", "1.2.0", "1.2.42"},
		{"v1.2.3-rc1", "1.2.3", "1.2.42"},
		{"v1.2-5-gabcdef", "1.2.0", "1.2.42"},
		{"v1.23x", "0.0.0", "0.0.42"},
		{"abcdef1", "0.0.0", "0.0.42"},
		{"dev", "0.0.0", "0.0.42"},
	} {
		s, b := versionsFrom(tc.in, 42)
		if s != tc.short || b != tc.build {
			t.Errorf("%q: %s %s", tc.in, s, b)
		}
		if !reBuildVersion.MatchString(b) {
			t.Errorf("%q: CFBundleVersion %s fails the release check's pattern", tc.in, b)
		}
	}
}

// TestBuildVersionIncreases: macOS compares CFBundleVersion as at most
// three integers (Apple, CFBundleVersion: "You can include more integers
// but the system ignores them"), so the first three must increase from
// build to build: dev builds after a tag, the next patch and minor
// releases.
func TestBuildVersionIncreases(t *testing.T) {
	history := []struct {
		describe string
		commits  int
	}{
		{"abcdef1", 3}, {"v0.1.0", 10}, {"v0.1.0-1-gabc", 11}, {"v0.1.0-2-gdef-dirty", 12},
		{"v0.1.1", 20}, {"v0.1.1-5-g123", 25}, {"v0.2", 30}, {"v0.2.1-rc1", 31}, {"v1.0.0", 40}, {"v1.0.0-1-g9", 41},
	}
	parse := func(v string) [3]int {
		var out [3]int
		for i, f := range strings.SplitN(v, ".", 3) {
			fmt.Sscan(f, &out[i])
		}
		return out
	}
	less := func(a, b [3]int) bool {
		for i := range a {
			if a[i] != b[i] {
				return a[i] < b[i]
			}
		}
		return false
	}
	var prev [3]int
	for i, h := range history {
		_, b := versionsFrom(h.describe, h.commits)
		if strings.Count(b, ".") > 2 {
			t.Errorf("%s: CFBundleVersion %s has more than three integers", h.describe, b)
		}
		cur := parse(b)
		if i > 0 && !less(prev, cur) {
			t.Errorf("%s (%d commits): CFBundleVersion %s does not increase on %v", h.describe, h.commits, b, prev)
		}
		prev = cur
	}
}

// TestRenderPlist: the real template renders to a property list with the
// keys and values a menu-bar app needs, and text is escaped.
func TestRenderPlist(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join("..", "Info.plist.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := renderPlist(string(tmpl), appInfo{Executable: "forkwatch", Identifier: "com.forkwatch.app", Name: "Forkwatch",
		ShortVersion: "1.2.3", BuildVersion: "1.2.42", MinimumSystem: minimumMacOS, Copyright: `© <"A & B">`})
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Exe       string `plist:"CFBundleExecutable"`
		ID        string `plist:"CFBundleIdentifier"`
		Type      string `plist:"CFBundlePackageType"`
		UIElement bool   `plist:"LSUIElement"`
		HiRes     bool   `plist:"NSHighResolutionCapable"`
		Short     string `plist:"CFBundleShortVersionString"`
		Icon      string `plist:"CFBundleIconFile"`
		Copyright string `plist:"NSHumanReadableCopyright"`
		Min       string `plist:"LSMinimumSystemVersion"`
	}
	if _, err := plist.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	if p.Exe != "forkwatch" || p.ID != "com.forkwatch.app" || p.Type != "APPL" || !p.UIElement || !p.HiRes || p.Short != "1.2.3" || p.Icon != "AppIcon" || p.Copyright != `© <"A & B">` || p.Min != "12.0" {
		t.Errorf("plist: %+v", p)
	}
	if _, err := renderPlist("{{.Nope}}", appInfo{}); err == nil {
		t.Error("a template naming an unknown field should fail")
	}
}

// TestBundleLayout: icon, layout and zip, as `make app` makes them.
func TestBundleLayout(t *testing.T) {
	iconPNG, err := os.ReadFile(filepath.Join("..", "assets", "icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	icon, err := makeIcns(iconPNG)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := icns.Probe(bytes.NewReader(icon))
	if err != nil || len(desc) < 4 {
		t.Fatalf("icns: %v %v", desc, err)
	}
	dir := t.TempDir()
	app, err := layoutBundle(dir, []byte("#!fake exe"), []byte("<plist/>"), icon)
	if err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{"Contents/MacOS/forkwatch": 0o755, "Contents/Info.plist": 0o644, "Contents/Resources/AppIcon.icns": 0o644, "Contents/PkgInfo": 0o644} {
		fi, err := os.Stat(filepath.Join(app, p))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v", p, fi, err)
		}
	}
	sum, err := zipBundle(app, filepath.Join(dir, "F.zip"), zipEpoch)
	if err != nil || len(sum) != 64 {
		t.Fatal(sum, err)
	}
	zr, err := zip.OpenReader(filepath.Join(dir, "F.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		if f.Name == "Forkwatch.app/Contents/MacOS/forkwatch" {
			found = f.Mode().Perm()&0o100 != 0
		}
	}
	if !found {
		t.Error("executable missing from the zip or not executable")
	}
	sum2, _ := zipBundle(app, filepath.Join(dir, "G.zip"), zipEpoch)
	if sum2 != sum {
		t.Error("zip is not reproducible")
	}
	wd, _ := os.Getwd()
	os.Chdir("..")
	defer os.Chdir(wd)
	cask, err := renderCask("1.2.3", sum)
	if err != nil || !strings.Contains(string(cask), `sha256 "`+sum+`"`) || !strings.Contains(string(cask), `version "1.2.3"`) {
		t.Errorf("cask: %s %v", cask, err)
	}
}

// TestEntitlements: the shipped file passes; any exception, the debugging
// entitlement, or a file that is not a plist dictionary fails.
func TestEntitlements(t *testing.T) {
	shipped, err := os.ReadFile("entitlements.plist")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkEntitlements(shipped); err != nil {
		t.Errorf("build/entitlements.plist: %v", err)
	}
	wrap := func(body string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>` + body + `</dict></plist>`)
	}
	for name, data := range map[string][]byte{
		"jit":            wrap(`<key>com.apple.security.cs.allow-jit</key><true/>`),
		"get-task-allow": wrap(`<key>com.apple.security.get-task-allow</key><true/>`),
		"library":        wrap(`<key>com.apple.security.cs.disable-library-validation</key><true/>`),
		"array":          []byte(`<plist version="1.0"><array><string>x</string></array></plist>`),
		"garbage":        []byte("not a plist <"),
	} {
		if err := checkEntitlements(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// machOStub is the start of a 64-bit Mach-O file (MH_MAGIC_64, little-endian).
var machOStub = []byte{0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01}

func testBundle(t *testing.T, exe []byte, mutate func(*appInfo)) string {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("..", "Info.plist.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	info := appInfo{Executable: "forkwatch", Identifier: "com.forkwatch.app", Name: "Forkwatch", ShortVersion: "1.2.3", BuildVersion: "1.2.40", MinimumSystem: minimumMacOS, Copyright: "©"}
	if mutate != nil {
		mutate(&info)
	}
	pl, err := renderPlist(string(tmpl), info)
	if err != nil {
		t.Fatal(err)
	}
	iconPNG, _ := os.ReadFile(filepath.Join("..", "assets", "icon.png"))
	icon, err := makeIcns(iconPNG)
	if err != nil {
		t.Fatal(err)
	}
	app, err := layoutBundle(t.TempDir(), exe, pl, icon)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// TestCheckBundle: a bundle as `make app` lays it out passes; each kind of
// damage is named.
func TestCheckBundle(t *testing.T) {
	if err := checkBundle(testBundle(t, machOStub, nil)); err != nil {
		t.Fatalf("good bundle: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		exe        []byte
		mutate     func(*appInfo)
		damage     func(app string)
	}{
		{name: "ELF executable", want: "not a Mach-O", exe: []byte("\x7fELF....")},
		{name: "bad version", want: "CFBundleShortVersionString", mutate: func(i *appInfo) { i.ShortVersion = "dev" }},
		{name: "bad identifier", want: "CFBundleIdentifier", mutate: func(i *appInfo) { i.Identifier = "forkwatch" }},
		{name: "executable name mismatch", want: "executable", mutate: func(i *appInfo) { i.Executable = "Forkwatch" }},
		{name: "no icon", want: "icon", damage: func(app string) { os.Remove(filepath.Join(app, "Contents", "Resources", "AppIcon.icns")) }},
		{name: "stray file", want: "unexpected Contents/notes.txt", damage: func(app string) { os.WriteFile(filepath.Join(app, "Contents", "notes.txt"), nil, 0o644) }},
		{name: "not executable", want: "not an executable", damage: func(app string) { os.Chmod(filepath.Join(app, "Contents", "MacOS", "forkwatch"), 0o644) }},
		{name: "no LSUIElement", want: "LSUIElement", damage: func(app string) {
			p := filepath.Join(app, "Contents", "Info.plist")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("<key>LSUIElement</key>\n\t<true/>"), nil, 1), 0o644)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exe := tc.exe
			if exe == nil {
				exe = machOStub
			}
			app := testBundle(t, exe, tc.mutate)
			if tc.damage != nil {
				tc.damage(app)
			}
			err := checkBundle(app)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want …%s…", err, tc.want)
			}
		})
	}
}

func TestSignArgs(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"", "--force --options runtime --entitlements build/entitlements.plist --sign - F.app"},
		{"-", "--force --options runtime --entitlements build/entitlements.plist --sign - F.app"},
		{"Developer ID Application: X (TEAM1234)", "--force --options runtime --entitlements build/entitlements.plist --timestamp --sign Developer ID Application: X (TEAM1234) F.app"},
	} {
		if got := strings.Join(signArgs(tc.id, "build/entitlements.plist", "F.app"), " "); got != tc.want {
			t.Errorf("%q: %s", tc.id, got)
		}
	}
}
