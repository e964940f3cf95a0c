package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackmordaunt/icns/v3"
	"howett.net/plist"
)

func TestVersionsFrom(t *testing.T) {
	for _, tc := range []struct{ in, short, build string }{
		{"v1.2.3", "1.2.3", "1.2.3.42"},
		{"v1.2.3-4-gabcdef-dirty", "1.2.3", "1.2.3.42"},
		{"abcdef1", "0.0.0", "0.0.0.42"},
		{"dev", "0.0.0", "0.0.0.42"},
	} {
		s, b := versionsFrom(tc.in, 42)
		if s != tc.short || b != tc.build {
			t.Errorf("%q: %s %s", tc.in, s, b)
		}
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
		ShortVersion: "1.2.3", BuildVersion: "1.2.3.42", MinimumSystem: "11.0", Copyright: `© <"A & B">`})
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
	if p.Exe != "forkwatch" || p.ID != "com.forkwatch.app" || p.Type != "APPL" || !p.UIElement || !p.HiRes || p.Short != "1.2.3" || p.Icon != "AppIcon" || p.Copyright != `© <"A & B">` || p.Min != "11.0" {
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
	sum, err := zipBundle(app, filepath.Join(dir, "F.zip"))
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
	sum2, _ := zipBundle(app, filepath.Join(dir, "G.zip"))
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
