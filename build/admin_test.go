package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/forkwatch/forkwatch/internal/redact"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// The files for Mac admins in build/admin: the sample profile, the Jamf
// Pro schema and the ProfileManifests manifest each parse, and each lists
// exactly the keys (and toggle names) Forkwatch reads, with matching types.

func goKeys() (names []string, types map[string]string) {
	types = map[string]string{}
	for _, k := range managed.Keys {
		names = append(names, k.Name)
		types[k.Name] = k.Type
	}
	sort.Strings(names)
	return names, types
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func plistType(v any) string {
	switch v.(type) {
	case bool:
		return "bool"
	case string:
		return "string"
	case map[string]any:
		return "dict"
	}
	return "other"
}

func TestAdminProfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("admin", "com.forkwatch.app.mobileconfig"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		PayloadType    string
		PayloadContent []struct {
			PayloadType    string
			PayloadContent map[string]struct {
				Forced []struct {
					Settings map[string]any `plist:"mcx_preference_settings"`
				}
			}
		}
	}
	if _, err := plist.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.PayloadType != "Configuration" || len(p.PayloadContent) != 1 || p.PayloadContent[0].PayloadType != "com.apple.ManagedClient.preferences" {
		t.Fatalf("not a custom-settings profile: %+v", p)
	}
	dom, ok := p.PayloadContent[0].PayloadContent[managed.Domain]
	if !ok || len(dom.Forced) != 1 {
		t.Fatalf("no Forced settings for %s", managed.Domain)
	}
	settings := dom.Forced[0].Settings
	names, types := goKeys()
	if got := sortedKeys(settings); !slices.Equal(got, names) {
		t.Errorf("profile keys %v, Go keys %v", got, names)
	}
	for k, v := range settings {
		if plistType(v) != types[k] {
			t.Errorf("%s is %s in the profile, %s in Go", k, plistType(v), types[k])
		}
	}
	// Every key is commented: each key's name appears in a comment.
	comments := strings.Join(commentsOf(string(data)), "\n")
	for _, k := range names {
		if !strings.Contains(comments, k) {
			t.Errorf("no comment on %s", k)
		}
	}
	// The sample itself is a valid setting: written where macOS puts it,
	// Forkwatch reads it without complaint.
	dir := t.TempDir()
	b, _ := plist.Marshal(settings, plist.BinaryFormat)
	os.WriteFile(filepath.Join(dir, managed.Domain+".plist"), b, 0o644)
	s, err := managed.Load(managed.Paths{ManagedDir: dir, UserPrefs: filepath.Join(dir, "none.plist")})
	if err != nil {
		t.Fatalf("the sample's values do not load: %v", err)
	}
	if on, ok := s.Enforced("coredump-off"); !ok || !on || s.ExportEndpoint == "" {
		t.Errorf("loaded %+v", s)
	}
}

func commentsOf(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "<!--")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "-->")
		if j < 0 {
			return out
		}
		out = append(out, s[i:i+j])
		s = s[i+j:]
	}
}

func TestAdminJamfSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("admin", "com.forkwatch.app.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Title      string
		Properties map[string]struct {
			Type       string
			Enum       []string
			Properties map[string]struct{ Type string }
		}
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	names, types := goKeys()
	if got := sortedKeys(schema.Properties); !slices.Equal(got, names) {
		t.Errorf("schema keys %v, Go keys %v", got, names)
	}
	jsonType := map[string]string{"bool": "boolean", "string": "string", "dict": "object"}
	for k, p := range schema.Properties {
		if p.Type != jsonType[types[k]] {
			t.Errorf("%s: %s in the schema, %s in Go", k, p.Type, types[k])
		}
	}
	toggles := append([]string(nil), managed.Toggles...)
	sort.Strings(toggles)
	if got := sortedKeys(schema.Properties[managed.KeyEnforceToggles].Properties); !slices.Equal(got, toggles) {
		t.Errorf("schema toggles %v, Go %v", got, toggles)
	}
	for _, v := range schema.Properties[managed.KeyRedact].Enum {
		if _, err := redact.Parse(v); err != nil {
			t.Errorf("Redact choice %q: %v", v, err)
		}
	}
}

func TestAdminManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("admin", "com.forkwatch.app.plist"))
	if err != nil {
		t.Fatal(err)
	}
	type sub struct {
		Name    string   `plist:"pfm_name"`
		Type    string   `plist:"pfm_type"`
		Range   []string `plist:"pfm_range_list"`
		Subkeys []sub    `plist:"pfm_subkeys"`
	}
	var m struct {
		Domain  string `plist:"pfm_domain"`
		Subkeys []sub  `plist:"pfm_subkeys"`
	}
	if _, err := plist.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Domain != managed.Domain {
		t.Errorf("domain %q", m.Domain)
	}
	names, types := goKeys()
	pfmType := map[string]string{"bool": "boolean", "string": "string", "dict": "dictionary"}
	var got []string
	for _, s := range m.Subkeys {
		got = append(got, s.Name)
		if s.Type != pfmType[types[s.Name]] {
			t.Errorf("%s: %s in the manifest, %s in Go", s.Name, s.Type, types[s.Name])
		}
		if s.Name == managed.KeyEnforceToggles {
			var tg []string
			for _, x := range s.Subkeys {
				tg = append(tg, x.Name)
			}
			sort.Strings(tg)
			want := append([]string(nil), managed.Toggles...)
			sort.Strings(want)
			if !slices.Equal(tg, want) {
				t.Errorf("manifest toggles %v, Go %v", tg, want)
			}
		}
		for _, v := range s.Range {
			if _, err := redact.Parse(v); err != nil {
				t.Errorf("Redact choice %q: %v", v, err)
			}
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, names) {
		t.Errorf("manifest keys %v, Go keys %v", got, names)
	}
}
