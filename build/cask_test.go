package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// needTool finds a command the test needs; in CI (CI=true) a missing one
// fails the test, elsewhere it skips with the package that provides it.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found: CI needs it (apt-get install %s)", name, pkg)
	}
	t.Skipf("%s not found (apt-get install %s)", name, pkg)
	return ""
}

// caskRecorder evaluates a cask file with Ruby, the way Homebrew loads it
// (a `cask "token" do ... end` block run against an object that answers
// the stanzas), but with a recorder instead of Homebrew: every stanza call
// is recorded with its arguments, and `version`/`appdir` answer so that
// the URL comes out as Homebrew would interpolate it.
const caskRecorder = `
require "json"
class Recorder
  attr_reader :calls
  def initialize; @calls = []; end
  def appdir; "/Applications"; end
  def version(v = nil)
    return @version if v.nil?
    @version = v
    @calls << ["version", [v], {}, false]
    nil
  end
  def method_missing(name, *args, **kw, &blk)
    kw = kw.transform_keys(&:to_s).transform_values { |v| v.is_a?(Symbol) ? ":#{v}" : v }
    @calls << [name.to_s, args, kw, !blk.nil?]
    nil
  end
  def respond_to_missing?(*) = true
end
def cask(token, &blk)
  r = Recorder.new
  r.instance_eval(&blk)
  puts JSON.generate({"token" => token, "calls" => r.calls})
end
load ARGV[0]
`

// stanza is one recorded call: `zap trash: [...]` is {Name: "zap", KW: {"trash": [...]}}.
type stanza struct {
	Name  string
	Args  []any
	KW    map[string]any
	Block bool
}

type evaluatedCask struct {
	Token   string
	Stanzas []stanza
}

func (c evaluatedCask) all(name string) []stanza {
	var out []stanza
	for _, s := range c.Stanzas {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// arg is the first positional argument of the one stanza called name.
func (c evaluatedCask) arg(t *testing.T, name string) string {
	t.Helper()
	st := c.all(name)
	if len(st) != 1 || len(st[0].Args) == 0 {
		t.Fatalf("cask: want one %s stanza with an argument, got %+v", name, st)
	}
	return fmt.Sprint(st[0].Args[0])
}

func evalCask(t *testing.T, ruby, path string) evaluatedCask {
	t.Helper()
	script := filepath.Join(t.TempDir(), "recorder.rb")
	if err := os.WriteFile(script, []byte(caskRecorder), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ruby, script, path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ruby %s: %v\n%s", path, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var raw struct {
		Token string
		Calls [][]json.RawMessage
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("recorder output %q: %v", out, err)
	}
	c := evaluatedCask{Token: raw.Token}
	for _, call := range raw.Calls {
		var s stanza
		if len(call) != 4 || json.Unmarshal(call[0], &s.Name) != nil || json.Unmarshal(call[1], &s.Args) != nil ||
			json.Unmarshal(call[2], &s.KW) != nil || json.Unmarshal(call[3], &s.Block) != nil {
			t.Fatalf("recorder call %s", call)
		}
		c.Stanzas = append(c.Stanzas, s)
	}
	return c
}

// renderTestCask renders the real template for a tag into a file.
func renderTestCask(t *testing.T, tag, sha string) (release, string) {
	t.Helper()
	rel, err := parseReleaseTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("forkwatch.rb.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	cask, err := renderCaskText(string(tmpl), rel.Version, sha, minimumMacOS)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "forkwatch.rb")
	if err := os.WriteFile(p, cask, 0o644); err != nil {
		t.Fatal(err)
	}
	return rel, p
}

const fakeSHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseReleaseTag(t *testing.T) {
	for _, tc := range []struct {
		tag, version, short string
		pre                 bool
	}{
		{"v1.2.3", "1.2.3", "1.2.3", false},
		{"v1.2.3-rc1", "1.2.3-rc1", "1.2.3", true},
		{"v1.2", "1.2", "1.2.0", false},
		{"v1.2.3-beta.2", "1.2.3-beta.2", "1.2.3", true},
		{"v10.20.30", "10.20.30", "10.20.30", false},
	} {
		r, err := parseReleaseTag(tc.tag)
		if err != nil || r.Version != tc.version || r.Short != tc.short || r.Prerelease != tc.pre || r.Tag != tc.tag {
			t.Errorf("%s: %+v %v", tc.tag, r, err)
		}
	}
	for _, bad := range []string{"1.2.3", "v1", "v1.2.3-4-gabcdef", "v1.2.3-dirty", "v1.2.3-4-gabcdef-dirty", "vx.y", "v1.2.3-", "v1.2.3-rc1 x", "v1.2.3-rc1\"; system(\"id\")", ""} {
		if r, err := parseReleaseTag(bad); err == nil {
			t.Errorf("%q accepted as %+v", bad, r)
		}
	}
	// A development build keeps its X.Y.Z and is never a pre-release.
	if r := releaseFor("v1.2.3-4-gabcdef-dirty"); r.Version != "1.2.3" || r.Short != "1.2.3" {
		t.Errorf("describe output: %+v", r)
	}
}

// TestCaskForTags renders the real cask for v1.2.3, v1.2.3-rc1 and v1.2,
// evaluates it with Ruby, and checks the version and the URL Homebrew
// would download: the tag's own release asset (not /v1.2.3/ for an rc, not
// 0.0.0 for v1.2).
func TestCaskForTags(t *testing.T) {
	ruby := needTool(t, "ruby", "ruby")
	for _, tc := range []struct{ tag, version, url string }{
		{"v1.2.3", "1.2.3", "https://github.com/forkwatch/forkwatch/releases/download/v1.2.3/Forkwatch-1.2.3.zip"},
		{"v1.2.3-rc1", "1.2.3-rc1", "https://github.com/forkwatch/forkwatch/releases/download/v1.2.3-rc1/Forkwatch-1.2.3-rc1.zip"},
		{"v1.2", "1.2", "https://github.com/forkwatch/forkwatch/releases/download/v1.2/Forkwatch-1.2.zip"},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			rel, p := renderTestCask(t, tc.tag, fakeSHA)
			if err := rubySyntax(p); err != nil {
				t.Fatal(err)
			}
			c := evalCask(t, ruby, p)
			if c.Token != "forkwatch" {
				t.Errorf("token %q", c.Token)
			}
			if v := c.arg(t, "version"); v != tc.version {
				t.Errorf("version %q, want %q", v, tc.version)
			}
			if u := c.arg(t, "url"); u != tc.url || u != releaseURL(rel) {
				t.Errorf("url %q, want %q (releaseURL %q)", u, tc.url, releaseURL(rel))
			}
			if s := c.arg(t, "sha256"); s != fakeSHA {
				t.Errorf("sha256 %q", s)
			}
			// The regexp reader the dry run uses agrees with Ruby.
			data, _ := os.ReadFile(p)
			f, err := readCask(data)
			if err != nil || f.Version != tc.version || f.URL != tc.url || f.SHA256 != fakeSHA || f.MacOS != ":monterey" {
				t.Errorf("readCask = %+v, %v", f, err)
			}
		})
	}
}

// TestCaskKeepsDataOnUpgrade: Homebrew runs uninstall_preflight and every
// uninstall directive but signal: on upgrade and reinstall, so the cask
// must not run `forkwatch uninstall` there nor remove the agents there;
// `brew uninstall --zap` removes the support folder and the agents.
func TestCaskKeepsDataOnUpgrade(t *testing.T) {
	ruby := needTool(t, "ruby", "ruby")
	_, p := renderTestCask(t, "v1.2.3", fakeSHA)
	c := evalCask(t, ruby, p)
	for _, s := range c.Stanzas {
		if strings.HasSuffix(s.Name, "flight") || strings.HasSuffix(s.Name, "flight_steps") {
			t.Errorf("cask has %s: flight blocks run on upgrade too", s.Name)
		}
	}
	text, _ := os.ReadFile(p)
	if regexp.MustCompile(`(?m)^[^#]*system_command[^\n]*uninstall`).Match(text) {
		t.Error("cask runs forkwatch uninstall")
	}
	un := c.all("uninstall")
	if len(un) != 1 {
		t.Fatalf("uninstall stanzas: %+v", un)
	}
	for k := range un[0].KW {
		if k != "quit" {
			t.Errorf("uninstall %s: runs on brew upgrade too (only signal: is skipped)", k)
		}
	}
	if q := un[0].KW["quit"]; q != "com.forkwatch.app" {
		t.Errorf("uninstall quit: %v, want the bundle id", q)
	}
	zap := c.all("zap")
	if len(zap) != 1 {
		t.Fatalf("zap stanzas: %+v", zap)
	}
	list := func(k string) []string {
		var out []string
		v, _ := zap[0].KW[k].([]any)
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	for _, want := range []string{"~/Library/Application Support/Forkwatch", "~/Library/Logs/Forkwatch"} {
		if !slices.Contains(list("trash"), want) {
			t.Errorf("zap trash: %v lacks %s", list("trash"), want)
		}
	}
	for _, want := range []string{"com.forkwatch.app", "com.forkwatch.fork-safety-env", "com.forkwatch.coredump-off"} {
		if !slices.Contains(list("launchctl"), want) {
			t.Errorf("zap launchctl: %v lacks %s", list("launchctl"), want)
		}
	}
	dep := c.all("depends_on")
	// A Ruby symbol (the recorder writes symbols as ":name"), not the
	// deprecated string ">= :monterey".
	if len(dep) != 1 || dep[0].KW["macos"] != ":monterey" {
		t.Errorf("depends_on: %+v, want macos: :monterey (a symbol)", dep)
	}
}

// TestMinimumMacOS: one constant feeds Info.plist, the deployment target
// and the cask, and it is 12.0 (Go 1.25+ needs macOS 12).
func TestMinimumMacOS(t *testing.T) {
	if minimumMacOS != "12.0" {
		t.Errorf("minimumMacOS = %s", minimumMacOS)
	}
	tmpl, err := os.ReadFile(filepath.Join("..", "Info.plist.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tmpl), "<string>{{xml .MinimumSystem}}</string>") {
		t.Error("Info.plist.tmpl does not take LSMinimumSystemVersion from MinimumSystem")
	}
	app := testBundle(t, machOStub, nil)
	if err := checkBundle(app); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(buildEnv("arm64", true), "MACOSX_DEPLOYMENT_TARGET=12.0") || !slices.Contains(buildEnv("amd64", false), "MACOSX_DEPLOYMENT_TARGET=12.0") {
		t.Errorf("buildEnv: %v", buildEnv("arm64", true))
	}
	// The amd64 half of the universal binary keeps the go command's
	// default C flags: a CGO_CFLAGS of just "-arch x86_64" dropped -O2 -g.
	for _, kv := range buildEnv("amd64", true) {
		if k, v, _ := strings.Cut(kv, "="); (k == "CGO_CFLAGS" || k == "CGO_LDFLAGS") && (!strings.Contains(v, "-O2") || !strings.Contains(v, "-g") || !strings.Contains(v, "-arch x86_64")) {
			t.Errorf("buildEnv amd64: %s", kv)
		}
	}
	if m, err := caskMacOS(minimumMacOS); err != nil || m != ":monterey" {
		t.Errorf("caskMacOS = %q, %v", m, err)
	}
	cask, err := os.ReadFile("forkwatch.rb.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cask), "depends_on macos: {{MACOS}}\n") || strings.Contains(string(cask), ":big_sur") {
		t.Error("the cask template does not take depends_on macos: from minimumMacOS")
	}
	// A bundle that promises another macOS is refused.
	old := testBundle(t, machOStub, func(i *appInfo) { i.MinimumSystem = "11.0" })
	if err := checkBundle(old); err == nil || !strings.Contains(err.Error(), "LSMinimumSystemVersion") {
		t.Errorf("LSMinimumSystemVersion 11.0: %v", err)
	}
}

// TestZipTimes: zipinfo (Info-ZIP, what a user's unzip reads) shows every
// entry of the zip `make app` builds at the commit's time, and a time
// before 1980 is refused rather than written as 2098.
func TestZipTimes(t *testing.T) {
	zipinfo := needTool(t, "zipinfo", "unzip")
	ct := commitTime()
	if ct == 0 {
		t.Skip("not a git checkout: no commit time")
	}
	want := entryTime(ct)
	app := testBundle(t, machOStub, nil)
	rel, _ := parseReleaseTag("v1.2.3")
	dir := filepath.Dir(app)
	wd, _ := os.Getwd()
	if err := os.Chdir(".."); err != nil { // renderCask reads build/forkwatch.rb.tmpl
		t.Fatal(err)
	}
	err := packageBundle(app, dir, rel, want)
	os.Chdir(wd)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(zipinfo, "-T", "-l", filepath.Join(dir, zipName(rel)))
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zipinfo: %v\n%s", err, out)
	}
	// -T prints yyyymmdd.hhmmss; Info-ZIP reads the exact time from the
	// extended-timestamp field archive/zip writes.
	dates := regexp.MustCompile(`\b(\d{8}\.\d{6})\b`).FindAllStringSubmatch(string(out), -1)
	if len(dates) < 5 {
		t.Fatalf("zipinfo listed %d dated entries:\n%s", len(dates), out)
	}
	for _, d := range dates {
		got, err := time.Parse("20060102.150405", d[1])
		if err != nil {
			t.Fatal(err)
		}
		if got.Year() >= 2098 || got.Before(zipEpoch) {
			t.Errorf("entry dated %s", got)
		}
		if diff := got.Sub(want); diff < -2*time.Second || diff > 2*time.Second {
			t.Errorf("entry dated %s, commit time %s", got, want)
		}
	}
	// Before the fix the entries were dated time.Unix(0, 0): refused now.
	if _, err := zipBundle(app, filepath.Join(t.TempDir(), "old.zip"), time.Unix(0, 0)); err == nil {
		t.Error("a 1970 entry time was accepted")
	}
	if entryTime(0) != zipEpoch || entryTime(-5) != zipEpoch || entryTime(ct) != time.Unix(ct, 0).UTC() {
		t.Error("entryTime")
	}
}

// TestVerifyRelease: the checks `make release-dry-run` makes pass for
// outputs built for a tag, and each kind of disagreement is named.
func TestVerifyRelease(t *testing.T) {
	needTool(t, "ruby", "ruby")
	mod := time.Date(2026, 11, 26, 9, 30, 26, 0, time.UTC)
	build := func(t *testing.T, tag string) (string, release) {
		rel, err := parseReleaseTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		app := testBundle(t, machOStub, func(i *appInfo) { i.ShortVersion = rel.Short })
		dir := filepath.Dir(app)
		wd, _ := os.Getwd()
		os.Chdir("..")
		err = packageBundle(app, dir, rel, mod)
		os.Chdir(wd)
		if err != nil {
			t.Fatal(err)
		}
		return dir, rel
	}
	dir, rel := build(t, "v1.2.3-rc1")
	if err := verifyRelease(dir, rel, mod); err != nil {
		t.Fatalf("good release: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Forkwatch-1.2.3-rc1.zip")); err != nil {
		t.Error(err)
	}
	edit := func(t *testing.T, p, old, new string) {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q", p, old)
		}
		os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
	}
	for _, tc := range []struct {
		name, want string
		damage     func(t *testing.T, dir string)
		mod        time.Time
	}{
		{name: "cask version", want: "cask version", damage: func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "forkwatch.rb"), `version "1.2.3-rc1"`, `version "1.2.3"`)
		}},
		{name: "cask sha", want: "cask sha256", damage: func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "forkwatch.rb"))
			s := regexp.MustCompile(`sha256 "[0-9a-f]{64}"`).ReplaceAllString(string(b), `sha256 "`+fakeSHA+`"`)
			os.WriteFile(filepath.Join(dir, "forkwatch.rb"), []byte(s), 0o644)
		}},
		{name: "ruby syntax", want: "ruby -c", damage: func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "forkwatch.rb"), "\nend\n", "\n")
		}},
		{name: "macos", want: "depends_on macos", damage: func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "forkwatch.rb"), "depends_on macos: :monterey", "depends_on macos: :big_sur")
		}},
		{name: "checksum file", want: ".sha256", damage: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "Forkwatch-1.2.3-rc1.zip.sha256"), []byte(fakeSHA+"  Forkwatch-1.2.3-rc1.zip\n"), 0o644)
		}},
		{name: "entry times", want: "dated", mod: mod.Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, rel := build(t, "v1.2.3-rc1")
			if tc.damage != nil {
				tc.damage(t, dir)
			}
			m := mod
			if !tc.mod.IsZero() {
				m = tc.mod
			}
			err := verifyRelease(dir, rel, m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want …%s…", err, tc.want)
			}
		})
	}
	// The zip of another tag is not there: the URL would 404.
	if err := verifyRelease(dir, release{Tag: "v1.2.3", Version: "1.2.3", Short: "1.2.3"}, mod); err == nil {
		t.Error("outputs of v1.2.3-rc1 accepted for v1.2.3")
	}
}

func TestCheckNotary(t *testing.T) {
	const id = "2667f8c3-dfee-4357-9703-dfb5f7648b50"
	for _, tc := range []struct {
		name, json, id string
		ok             bool
	}{
		{"accepted", `{"id":"` + id + `","status":"Accepted","message":"Processing complete"}`, id, true},
		{"invalid", `{"id":"` + id + `","status":"Invalid","message":"Processing complete"}`, id, false},
		{"timed out", `{"id":"` + id + `","status":"In Progress","message":"Processing"}`, id, false},
		{"no status", `{"id":"` + id + `"}`, id, false},
		{"accepted without id", `{"status":"Accepted"}`, "", false},
		{"hostile id", `{"id":"x; rm -rf ~","status":"Invalid"}`, "", false},
		{"not json", `Conducting pre-submission checks`, "", false},
	} {
		got, err := checkNotary([]byte(tc.json))
		if got != tc.id || (err == nil) != tc.ok {
			t.Errorf("%s: id %q err %v", tc.name, got, err)
		}
	}
}
