// Package managed reads Forkwatch's preference domain, com.forkwatch.app,
// the way macOS layers it: values a Mac admin deploys in a configuration
// profile (a com.apple.ManagedClient.preferences payload, which macOS
// writes to /Library/Managed Preferences) take precedence over the user's
// own values (`defaults write com.forkwatch.app KEY VALUE`, i.e.
// ~/Library/Preferences/com.forkwatch.app.plist).
//
// The files, lowest precedence first:
//
//	~/Library/Preferences/com.forkwatch.app.plist                  the user's own
//	/Library/Managed Preferences/com.forkwatch.app.plist            device-wide profile
//	/Library/Managed Preferences/USER/com.forkwatch.app.plist       per-user profile
//
// A per-user managed value beats a device-wide one: in Apple's managed-client
// model a user-level setting overrides the computer-level one for settings
// that take one value (Apple TA21028, "How the Preference Model Works for
// Managed Mac OS X Clients", mirrored at https://savagetaylor.com/TIL/TA21028.html).
// Dictionaries (EnforceToggles, ExportHeaders) are merged entry by entry in
// the same order.
//
// The environment variable FORKWATCH_MANAGED_PREFS names a folder that
// stands in for /Library/Managed Preferences (the same layout: the domain's
// plist at its top, per-user plists in a folder named after the user): for
// tests, for Linux, and for an admin trying a profile before deploying it.
// It can never replace a real profile: a user can set it (for the app too,
// with `launchctl setenv`), so it is honoured only while the real folder
// holds no Forkwatch profile (neither the device-wide nor the user's
// plist), and Settings.StandIn says when it is in use. On any system but
// macOS there is no real folder and /Library/Managed Preferences is never
// read. The real folder is a parameter (NewPaths), so tests never read it.
//
// The plists are read with howett.net/plist (XML, binary and OpenStep, as
// cfprefsd writes them). A value of the wrong type is an error naming the
// file, the key and the types, and only that key is ignored: the rest of
// the file still applies.
package managed

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/forkwatch/forkwatch/internal/redact"
	"howett.net/plist"
)

// Domain is the app's preference domain (its bundle identifier).
const Domain = "com.forkwatch.app"

// EnvDir is the environment variable that replaces DefaultDir.
const EnvDir = "FORKWATCH_MANAGED_PREFS"

// DefaultDir is where macOS puts the managed preferences of installed
// configuration profiles.
const DefaultDir = "/Library/Managed Preferences"

// MaxFileSize bounds a preferences file; real ones are a few hundred bytes.
const MaxFileSize = 1 << 20

// The keys of the domain.
const (
	KeyEnforceToggles   = "EnforceToggles"
	KeyNotifications    = "Notifications"
	KeyAllowForkTracing = "AllowForkTracing"
	KeyExportEndpoint   = "ExportEndpoint"
	KeyExportHeaders    = "ExportHeaders"
	KeyRedact           = "Redact"
)

// Key describes one key of the domain: the build/ files (the sample
// profile, the Jamf schema, the manifest) are tested against this list.
type Key struct {
	Name    string
	Type    string // plist type: bool, string, dict
	Default string
	Doc     string
}

// Keys lists every key Forkwatch reads, in documentation order.
var Keys = []Key{
	{KeyEnforceToggles, "dict", "none enforced", "Toggle name (ulimit-core, coredump-off, fork-safety-off, login-item) to true (on) or false (off). An enforced toggle is applied at start and whenever the profile changes; the user cannot change it."},
	{KeyNotifications, "bool", "true", "false: no crash notifications (the menu still lists crashes)."},
	{KeyAllowForkTracing, "bool", "true", "false: fork tracing cannot be turned on (forkwatch trace enable and the Fork Tracing menu refuse)."},
	{KeyExportEndpoint, "string", "unset: nothing is exported", "OTLP/HTTP base URL of an OpenTelemetry Collector, e.g. https://otel.example.com:4318; logs go to its /v1/logs."},
	{KeyExportHeaders, "dict", "none", "HTTP headers sent with every export (e.g. Authorization); string values."},
	{KeyRedact, "string", redact.Default, "What is removed before export, a comma-separated list: none, home (home paths as ~), args (command-line arguments dropped), project (project folders hashed), all. Values that look like secrets are masked in every setting but none."},
}

// Toggles are the toggle names EnforceToggles accepts (settings.Names; this
// package does not import settings, which imports nothing of this).
var Toggles = []string{"ulimit-core", "coredump-off", "fork-safety-off", "login-item"}

// Settings is the domain as it applies now.
type Settings struct {
	// EnforceToggles maps a toggle name to the state the admin enforces.
	EnforceToggles map[string]bool
	// Notifications and AllowForkTracing are nil when unset (default true).
	Notifications    *bool
	AllowForkTracing *bool
	ExportEndpoint   string
	ExportHeaders    map[string]string
	// Redact is the parsed Redact value (redact.Default when unset).
	Redact redact.Redaction
	// Managed names the keys a profile sets ("EnforceToggles.ulimit-core"
	// for a toggle); Source gives the file each key's value came from.
	Managed map[string]bool
	Source  map[string]string
	// StandIn is the FORKWATCH_MANAGED_PREFS folder when it is in use in
	// place of the real managed folder ("" otherwise): `status` says so.
	StandIn string
	// StandInIgnored is the FORKWATCH_MANAGED_PREFS folder when it is set
	// but a real profile is installed, which wins.
	StandInIgnored string
}

// EnforcedToggles lists the toggles a profile enforces, sorted, for the
// app to announce ("managed by your organization").
func (s Settings) EnforcedToggles() []string {
	return sortedKeys(s.EnforceToggles)
}

// Enforced returns the state a profile enforces for a toggle.
func (s Settings) Enforced(toggle string) (on, ok bool) {
	on, ok = s.EnforceToggles[toggle]
	return on, ok
}

// NotificationsOn is Notifications with its default.
func (s Settings) NotificationsOn() bool { return s.Notifications == nil || *s.Notifications }

// ForkTracingAllowed is AllowForkTracing with its default.
func (s Settings) ForkTracingAllowed() bool { return s.AllowForkTracing == nil || *s.AllowForkTracing }

// Paths are the files of the domain.
type Paths struct {
	// ManagedDir is the folder read for managed values: the real
	// managed folder, or the stand-in when StandIn. "" reads none.
	ManagedDir string
	// RealDir is the real managed folder (/Library/Managed Preferences on
	// macOS, "" elsewhere): while it holds a Forkwatch profile, a stand-in
	// ManagedDir is not used.
	RealDir string
	// StandIn says ManagedDir came from FORKWATCH_MANAGED_PREFS.
	StandIn bool
	// User is the login name of the per-user folder.
	User string
	// UserPrefs is the user's own plist (~/Library/Preferences/com.forkwatch.app.plist).
	UserPrefs string
}

// RealDirFor is the real managed folder on goos: DefaultDir on macOS, ""
// (none) elsewhere.
func RealDirFor(goos string) string {
	if goos == "darwin" {
		return DefaultDir
	}
	return ""
}

// DefaultPaths reads $FORKWATCH_MANAGED_PREFS, the user name and home, for
// this system's real folder.
func DefaultPaths(home string) Paths {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	return NewPaths(home, name, RealDirFor(runtime.GOOS), os.Getenv(EnvDir))
}

// NewPaths is DefaultPaths with everything given: realDir is the real
// managed folder ("" for none), standIn the FORKWATCH_MANAGED_PREFS value.
func NewPaths(home, user, realDir, standIn string) Paths {
	p := Paths{
		ManagedDir: realDir,
		RealDir:    realDir,
		User:       user,
		UserPrefs:  filepath.Join(home, "Library", "Preferences", Domain+".plist"),
	}
	if standIn != "" {
		p.ManagedDir, p.StandIn = standIn, true
	}
	return p
}

// managedDir is the folder managed values come from now: the stand-in
// only while the real folder holds no Forkwatch profile (looked at each
// time, so a profile installed later wins at the next read).
func (p Paths) managedDir() (dir string, standIn bool) {
	if p.StandIn && p.RealDir != "" && p.RealDir != p.ManagedDir && hasProfile(p.RealDir, p.User) {
		return p.RealDir, false
	}
	return p.ManagedDir, p.StandIn && p.ManagedDir != p.RealDir
}

// hasProfile reports whether dir holds the domain's device-wide or
// per-user plist. A file that cannot be looked at counts as there: the
// stand-in is honoured only when the real folder is known to be empty of
// ours.
func hasProfile(dir, user string) bool {
	for _, f := range []string{deviceIn(dir), perUserIn(dir, user)} {
		if f == "" {
			continue
		}
		if _, err := os.Lstat(f); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

func deviceIn(dir string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, Domain+".plist")
}

func perUserIn(dir, user string) string {
	if dir == "" || user == "" || strings.ContainsAny(user, "/\x00") || user == "." || user == ".." {
		return ""
	}
	return filepath.Join(dir, user, Domain+".plist")
}

// Device is the device-wide managed plist in use ("" when none is read).
func (p Paths) Device() string {
	dir, _ := p.managedDir()
	return deviceIn(dir)
}

// PerUser is the per-user managed plist in use ("" without a user name
// or a managed folder).
func (p Paths) PerUser() string {
	dir, _ := p.managedDir()
	return perUserIn(dir, p.User)
}

// layer is one file's contribution.
type layer struct {
	path    string
	managed bool
}

func (p Paths) layers() []layer {
	ls := []layer{{p.UserPrefs, false}}
	if d := p.Device(); d != "" {
		ls = append(ls, layer{d, true})
	}
	if pu := p.PerUser(); pu != "" {
		ls = append(ls, layer{pu, true})
	}
	return ls
}

// Load reads the domain. Missing files are not errors. The error, when not
// nil, lists every problem (unreadable or malformed files, keys of the
// wrong type); Settings then holds everything that could be read.
func Load(p Paths) (Settings, error) {
	s := Settings{Managed: map[string]bool{}, Source: map[string]string{}}
	switch dir, standIn := p.managedDir(); {
	case standIn:
		s.StandIn = dir
	case p.StandIn:
		s.StandInIgnored = p.ManagedDir
	}
	redactRaw, redactSrc := "", ""
	var errs []error
	for _, l := range p.layers() {
		if l.path == "" {
			continue
		}
		m, err := readPlist(l.path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		set := func(key string) {
			s.Managed[key] = l.managed
			s.Source[key] = l.path
		}
		for _, key := range sortedKeys(m) {
			v := m[key]
			bad := func(want string) {
				errs = append(errs, fmt.Errorf("%s: %s is %s, want %s; ignored", l.path, key, typeName(v), want))
			}
			switch key {
			case KeyEnforceToggles:
				d, ok := v.(map[string]any)
				if !ok {
					bad("a dictionary of toggle names to booleans")
					continue
				}
				for _, name := range sortedKeys(d) {
					b, ok := d[name].(bool)
					switch {
					case !slices.Contains(Toggles, name):
						errs = append(errs, fmt.Errorf("%s: %s: unknown toggle %q (known: %s); ignored", l.path, key, name, strings.Join(Toggles, ", ")))
					case !ok:
						errs = append(errs, fmt.Errorf("%s: %s.%s is %s, want a boolean; ignored", l.path, key, name, typeName(d[name])))
					case !l.managed:
						// Only a profile enforces: the user's own file
						// cannot lock a toggle against the user.
						errs = append(errs, fmt.Errorf("%s: %s: only a configuration profile can enforce a toggle; ignored", l.path, key))
					default:
						if s.EnforceToggles == nil {
							s.EnforceToggles = map[string]bool{}
						}
						s.EnforceToggles[name] = b
						set(key + "." + name)
					}
				}
			case KeyNotifications, KeyAllowForkTracing:
				b, ok := v.(bool)
				if !ok {
					bad("a boolean")
					continue
				}
				if key == KeyNotifications {
					s.Notifications = &b
				} else {
					s.AllowForkTracing = &b
				}
				set(key)
			case KeyExportEndpoint:
				str, ok := v.(string)
				if !ok {
					bad("a string")
					continue
				}
				if err := CheckEndpoint(str); err != nil {
					errs = append(errs, fmt.Errorf("%s: %s: %w; ignored", l.path, key, err))
					continue
				}
				s.ExportEndpoint = str
				set(key)
			case KeyExportHeaders:
				d, ok := v.(map[string]any)
				if !ok {
					bad("a dictionary of strings")
					continue
				}
				for _, name := range sortedKeys(d) {
					str, ok := d[name].(string)
					if !ok {
						errs = append(errs, fmt.Errorf("%s: %s.%s is %s, want a string; ignored", l.path, key, name, typeName(d[name])))
						continue
					}
					if s.ExportHeaders == nil {
						s.ExportHeaders = map[string]string{}
					}
					s.ExportHeaders[name] = str
					set(key + "." + name)
				}
			case KeyRedact:
				str, ok := v.(string)
				if !ok {
					bad("a string")
					continue
				}
				if _, err := redact.Parse(str); err != nil {
					errs = append(errs, fmt.Errorf("%s: %s: %w; ignored", l.path, key, err))
					continue
				}
				redactRaw, redactSrc = str, l.path
				set(key)
			}
			// Other keys are not ours to judge (MDM tools add their own,
			// e.g. PayloadUUID); they are ignored.
		}
	}
	s.Redact, _ = redact.Parse(redactRaw) // checked above
	if redactSrc == "" {
		delete(s.Source, KeyRedact)
	}
	return s, errors.Join(errs...)
}

// ErrEndpointUserinfo is CheckEndpoint's one line for a URL with a user or
// password in it; the URL is not repeated (it holds the password).
var ErrEndpointUserinfo = errors.New("the URL has a user or password in it; put credentials in ExportHeaders (e.g. Authorization)")

// CheckEndpoint accepts an http or https URL with a host, no user or
// password and no query: the OTLP/HTTP base URL (the exporter appends
// /v1/logs). No error repeats a user or password.
func CheckEndpoint(s string) error {
	shown := redact.StripUserinfo(s)
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: not a URL", shown)
	}
	if u.User != nil {
		return ErrEndpointUserinfo
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: want an http:// or https:// URL", shown)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: a base URL has no query or fragment", shown)
	}
	return nil
}

// readPlist reads a preferences file into a dictionary.
func readPlist(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("read %s: %d bytes, more than a preferences file holds (%d)", path, fi.Size(), MaxFileSize)
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var v any
	if _, err := plist.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: not a property list: %w", path, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: the top level is %s, want a dictionary", path, typeName(v))
	}
	return m, nil
}

// typeName names a decoded plist value's type as a person reads it.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "missing"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case uint64, int64, int, uint:
		return "an integer"
	case float32, float64:
		return "a real number"
	case []byte:
		return "data"
	case []any:
		return "an array"
	case map[string]any:
		return "a dictionary"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
