package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"text/template"
	"time"

	"github.com/jackmordaunt/icns/v3"
	"howett.net/plist"
)

// appInfo fills Info.plist.tmpl.
type appInfo struct {
	Executable, Identifier, Name string
	ShortVersion, BuildVersion   string
	MinimumSystem, Copyright     string
}

// versionsFrom turns a tag or `git describe` output into the two version
// strings a bundle needs: CFBundleShortVersionString (X.Y.Z from a vX.Y.Z
// tag, X.Y.0 from vX.Y, else 0.0.0) and CFBundleVersion, X.Y.N with N the
// commit count. CFBundleVersion is "one to three period-separated
// integers ... You can include more integers but the system ignores them"
// (Apple, Information Property List, CFBundleVersion): X.Y.Z.N would make
// every build of X.Y.Z the same build to macOS. X.Y.N still increases from
// build to build: a later build has at least as many commits and a release
// never lowers X.Y.
func versionsFrom(describe string, commits int) (short, build string) {
	m := reVersionPrefix.FindStringSubmatch(describe)
	short = "0.0.0"
	if m != nil {
		patch := m[3]
		if patch == "" {
			patch = "0"
		}
		short = m[1] + "." + m[2] + "." + patch
	}
	major, minor := "0", "0"
	if m != nil {
		major, minor = m[1], m[2]
	}
	return short, fmt.Sprintf("%s.%s.%d", major, minor, commits)
}

// reVersionPrefix is the version at the start of a tag or of `git
// describe` output: v1.2.3-4-gabcdef gives 1.2.3, v1.2 gives 1.2.
var reVersionPrefix = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?(?:$|[-+])`)

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// renderPlist renders the template and checks that the result parses as a
// property list with the keys macOS needs.
func renderPlist(tmpl string, info appInfo) ([]byte, error) {
	t, err := template.New("Info.plist").Funcs(template.FuncMap{"xml": xmlEscaper.Replace}).Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("parse Info.plist.tmpl: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, info); err != nil {
		return nil, fmt.Errorf("render Info.plist.tmpl: %w", err)
	}
	var got map[string]any
	if _, err := plist.Unmarshal(buf.Bytes(), &got); err != nil {
		return nil, fmt.Errorf("rendered Info.plist does not parse: %w", err)
	}
	for _, k := range []string{"CFBundleExecutable", "CFBundleIdentifier", "CFBundleShortVersionString", "CFBundleVersion", "LSUIElement"} {
		if _, ok := got[k]; !ok {
			return nil, fmt.Errorf("rendered Info.plist lacks %s", k)
		}
	}
	return buf.Bytes(), nil
}

// makeIcns turns the 512x512 PNG into AppIcon.icns (pure Go, no iconutil).
func makeIcns(pngData []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("decode icon: %w", err)
	}
	var buf bytes.Buffer
	if err := icns.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode icns: %w", err)
	}
	return buf.Bytes(), nil
}

// layoutBundle writes Forkwatch.app/Contents/{MacOS/forkwatch,
// Resources/AppIcon.icns, Info.plist} under dir.
func layoutBundle(dir string, exe, infoPlist, icon []byte) (string, error) {
	app := filepath.Join(dir, "Forkwatch.app")
	if err := os.RemoveAll(app); err != nil {
		return "", err
	}
	files := []struct {
		path string
		data []byte
		mode fs.FileMode
	}{
		{"Contents/MacOS/forkwatch", exe, 0o755},
		{"Contents/Resources/AppIcon.icns", icon, 0o644},
		{"Contents/Info.plist", infoPlist, 0o644},
		{"Contents/PkgInfo", []byte("APPL????"), 0o644},
	}
	for _, f := range files {
		p := filepath.Join(app, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return "", err
		}
	}
	return app, nil
}

// zipBundle zips the .app (keeping the executable bit), every entry
// stamped with mod (see entryTime), and returns the archive's SHA-256.
func zipBundle(app, out string, mod time.Time) (string, error) {
	if mod.Before(zipEpoch) {
		return "", fmt.Errorf("zip %s: entry time %s is before 1980, which zip dates cannot hold", app, mod)
	}
	mod = mod.UTC()
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	zw := zip.NewWriter(io.MultiWriter(f, h))
	base := filepath.Dir(app)
	err = filepath.WalkDir(app, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		// The same time for every entry keeps the zip reproducible. Not
		// time.Unix(0, 0): 1970 wraps to 2098 in an MS-DOS date.
		hdr.Modified = mod
		if d.IsDir() {
			hdr.Name += "/"
			_, err := zw.CreateHeader(hdr)
			return err
		}
		hdr.Method = zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("zip %s: %w", app, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// goBuild builds the darwin binary for arch, stamped with the version. With
// cgo (on a Mac) it has the menu bar; cross-built elsewhere it cannot.
func goBuild(out, arch, version string, cgo bool) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, "./app")
	cmd.Env = append(os.Environ(), buildEnv(arch, cgo)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build darwin/%s: %v\n%s", arch, err, out)
	}
	return nil
}

// buildEnv is the environment of a darwin build for arch. The deployment
// target is minimumMacOS, the same value as Info.plist's
// LSMinimumSystemVersion and the cask's depends_on macos:, so that clang
// (cgo) and the bundle promise the same macOS.
func buildEnv(arch string, cgo bool) []string {
	cgoFlag := "0"
	if cgo {
		cgoFlag = "1"
	}
	env := []string{"GOOS=darwin", "GOARCH=" + arch, "CGO_ENABLED=" + cgoFlag, "MACOSX_DEPLOYMENT_TARGET=" + minimumMacOS}
	if cgo && arch == "amd64" {
		// Setting CGO_CFLAGS replaces the go command's default, "-O2 -g"
		// (cmd/go/internal/work/exec.go: DefaultCFlags = "-O2 -g"), so that
		// default is kept in front of the cross-compile flag: without it the
		// systray binding's C would be built unoptimised and without debug
		// information.
		env = append(env, "CGO_CFLAGS="+defaultCgoFlags+" -arch x86_64", "CGO_LDFLAGS="+defaultCgoFlags+" -arch x86_64")
	}
	return env
}

// defaultCgoFlags is what the go command uses for CGO_CFLAGS and
// CGO_LDFLAGS when they are not set.
const defaultCgoFlags = "-O2 -g"

func gitOutput(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// runApp builds dist/Forkwatch.app and dist/Forkwatch-VERSION.zip.
func runApp(args []string) error {
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	version := fs.String("version", "", "version to stamp (default: git describe)")
	out := fs.String("out", "dist", "output folder")
	identity := fs.String("sign", os.Getenv("FORKWATCH_SIGN_IDENTITY"), "codesign identity (default: ad hoc)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version == "" {
		*version = gitOutput("describe", "--tags", "--always", "--dirty")
		if *version == "" {
			*version = "dev"
		}
	}
	commits := 0
	fmt.Sscan(gitOutput("rev-list", "--count", "HEAD"), &commits)
	rel := releaseFor(*version)
	short, build := versionsFrom(rel.Short, commits)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	onMac := runtime.GOOS == "darwin"
	tmp, err := os.MkdirTemp("", "forkwatch-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// 1. The binaries.
	arm, amd := filepath.Join(tmp, "forkwatch-arm64"), filepath.Join(tmp, "forkwatch-amd64")
	for arch, p := range map[string]string{"arm64": arm, "amd64": amd} {
		if err := goBuild(p, arch, *version, onMac); err != nil {
			return err
		}
	}
	exePath := arm
	if _, err := exec.LookPath("lipo"); err == nil {
		exePath = filepath.Join(tmp, "forkwatch")
		if o, err := exec.Command("lipo", "-create", "-output", exePath, arm, amd).CombinedOutput(); err != nil {
			return fmt.Errorf("lipo: %v\n%s", err, o)
		}
		fmt.Println("universal binary: arm64 + x86_64 (lipo)")
	} else {
		fmt.Println("lipo not found (it comes with Xcode on macOS): the bundle holds the arm64 binary only")
	}
	if !onMac {
		fmt.Println("not on macOS: the binaries are cross-built without cgo, so they run `forkwatch watch`, `inspect`, `status` and `set`, but the menu bar needs a build on a Mac")
	}
	exe, err := os.ReadFile(exePath)
	if err != nil {
		return err
	}

	// 2. Info.plist, icon, layout.
	tmpl, err := os.ReadFile("Info.plist.tmpl")
	if err != nil {
		return err
	}
	info, err := renderPlist(string(tmpl), appInfo{
		Executable: "forkwatch", Identifier: "com.forkwatch.app", Name: "Forkwatch",
		ShortVersion: short, BuildVersion: build, MinimumSystem: minimumMacOS,
		Copyright: fmt.Sprintf("© %d The Forkwatch authors", time.Now().Year()),
	})
	if err != nil {
		return err
	}
	iconPNG, err := os.ReadFile(filepath.Join("assets", "icon.png"))
	if err != nil {
		return err
	}
	icon, err := makeIcns(iconPNG)
	if err != nil {
		return err
	}
	app, err := layoutBundle(*out, exe, info, icon)
	if err != nil {
		return err
	}
	fmt.Println("bundle:", app, "version", short, "build", build)

	// 3. Signing, with the hardened runtime and the (empty) entitlements
	// either way. A Developer ID signature also gets a secure timestamp,
	// which notarization requires; ad-hoc signatures cannot have one.
	if _, err := exec.LookPath("codesign"); err == nil {
		if o, err := exec.Command("codesign", signArgs(*identity, filepath.Join("build", "entitlements.plist"), app)...).CombinedOutput(); err != nil {
			return fmt.Errorf("codesign: %v\n%s", err, o)
		}
		fmt.Println("signed with identity", orAdHoc(*identity))
	} else {
		fmt.Println("codesign not found (macOS only): the bundle is not signed")
	}

	// 4. Zip, checksum, cask.
	return packageBundle(app, *out, rel, entryTime(commitTime()))
}

// signArgs are codesign's arguments: `--options runtime` (the hardened
// runtime, required for notarization) and the entitlements file always;
// `--timestamp` only with a real identity ("-" is ad hoc).
func signArgs(identity, entitlements, app string) []string {
	args := []string{"--force", "--options", "runtime", "--entitlements", entitlements}
	if identity != "" && identity != "-" {
		args = append(args, "--timestamp")
	}
	return append(args, "--sign", orAdHoc(identity), app)
}

func orAdHoc(identity string) string {
	if identity == "" {
		return "-"
	}
	return identity
}

// packageBundle zips app into out/Forkwatch-VERSION.zip with its SHA-256
// and the cask, VERSION being the release's (1.2.3-rc1 for v1.2.3-rc1). It
// runs again after notarization (`go run ./build package`), since stapling
// changes the bundle.
func packageBundle(app, out string, rel release, mod time.Time) error {
	zipPath := filepath.Join(out, zipName(rel))
	sum, err := zipBundle(app, zipPath, mod)
	if err != nil {
		return err
	}
	if err := os.WriteFile(zipPath+".sha256", []byte(sum+"  "+filepath.Base(zipPath)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write checksum: %w", err)
	}
	cask, err := renderCask(rel.Version, sum)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "forkwatch.rb"), cask, 0o644); err != nil {
		return fmt.Errorf("write cask: %w", err)
	}
	fmt.Printf("zip: %s\nsha256: %s\ncask: %s (version %s)\n", zipPath, sum, filepath.Join(out, "forkwatch.rb"), rel.Version)
	return nil
}

// runPackage is `go run ./build package [-app dist/Forkwatch.app] [-version TAG]`:
// zip, checksum and cask for an existing (notarized, stapled) bundle. The
// version is the tag's when given (it must agree with the bundle's
// CFBundleShortVersionString), else the bundle's own X.Y.Z.
func runPackage(args []string) error {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	app := fs.String("app", filepath.Join("dist", "Forkwatch.app"), "the bundle")
	version := fs.String("version", "", "the release tag the bundle was built for (vX.Y.Z[-pre])")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(*app, "Contents", "Info.plist"))
	if err != nil {
		return err
	}
	var info struct {
		Short string `plist:"CFBundleShortVersionString"`
	}
	if _, err := plist.Unmarshal(data, &info); err != nil || !reShortVersion.MatchString(info.Short) {
		return fmt.Errorf("%s: no CFBundleShortVersionString (%v)", *app, err)
	}
	rel := release{Tag: "v" + info.Short, Version: info.Short, Short: info.Short}
	if *version != "" {
		if rel, err = parseReleaseTag(*version); err != nil {
			return err
		}
		if rel.Short != info.Short {
			return fmt.Errorf("%s was built as %s, not for %s", *app, info.Short, *version)
		}
	}
	return packageBundle(*app, filepath.Dir(*app), rel, entryTime(commitTime()))
}
