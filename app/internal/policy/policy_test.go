package policy

import (
	"reflect"
	"testing"

	"github.com/forkwatch/forkwatch/settings/managed"
)

// TestAnnouncerOnce: each enforced toggle is said once, and again only
// when the state enforced for it changes.
func TestAnnouncerOnce(t *testing.T) {
	var a Announcer
	s := managed.Settings{EnforceToggles: map[string]bool{"ulimit-core": true, "login-item": false},
		Source: map[string]string{"EnforceToggles.ulimit-core": "/p/com.forkwatch.app.plist"}}
	want := []string{
		"login-item is kept off: managed by your organization",
		"ulimit-core is kept on: managed by your organization (configuration profile /p/com.forkwatch.app.plist)",
	}
	if got := a.Lines(s); !reflect.DeepEqual(got, want) {
		t.Errorf("first: %q", got)
	}
	if got := a.Lines(s); got != nil {
		t.Errorf("again: %q", got)
	}
	s.EnforceToggles["login-item"] = true
	if got := a.Lines(s); len(got) != 1 || got[0] != "login-item is kept on: managed by your organization" {
		t.Errorf("changed: %q", got)
	}
	if got := a.Lines(managed.Settings{}); got != nil {
		t.Errorf("none: %q", got)
	}
}
