//go:build !darwin

package notify

import (
	"strings"
	"testing"
)

// TestDBusBodyEscaped: for a server that renders body markup, markup in
// report text arrives as text; for one that does not, the body is as is.
func TestDBusBodyEscaped(t *testing.T) {
	evil := `Python <a href="https://evil.example">x</a> <img src="/etc/passwd"> & 'q'`
	got := dbusBody(evil, true)
	if strings.ContainsAny(got, `<>"'`) || !strings.Contains(got, "&lt;a href=&#34;https://evil.example&#34;&gt;") || !strings.Contains(got, "&amp; &#39;q&#39;") {
		t.Errorf("markup server: %q", got)
	}
	if got := dbusBody(evil, false); got != evil {
		t.Errorf("plain server: %q", got)
	}
}
