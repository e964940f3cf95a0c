package redact

import (
	"strings"
	"testing"
)

// TestDefaultKeepsArgsHome: the report — with the default setting
// a parent's command line `… --db-url=postgres://app:PASSWORD@…` arrived
// whole at the collector. With the default now, only the program leaves;
// with "home" alone (a profile that asks for arguments) the password is
// still masked; with "none" everything is sent as recorded (the control:
// the setting does what it says).
func TestDefaultKeepsArgsHome(t *testing.T) {
	home := "/Users/ana"
	cmd := "/Users/ana/.venv/bin/python manage.py runserver --db-url=postgres://app:PASSWORD@db.internal/app --api-key=sk_live_123 TOKEN=ghp_abc"
	def, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	if got := def.CommandLine(cmd, home); got != "~/.venv/bin/python" {
		t.Errorf("default: %q", got)
	}
	homeOnly, _ := Parse("home")
	got := homeOnly.CommandLine(cmd, home)
	for _, secret := range []string{"PASSWORD", "sk_live_123", "ghp_abc", "app:"} {
		if strings.Contains(got, secret) {
			t.Errorf("home: %q leaks %q", got, secret)
		}
	}
	if !strings.Contains(got, "postgres://***@db.internal/app") || !strings.Contains(got, "--api-key=***") || !strings.HasPrefix(got, "~/.venv/bin/python manage.py runserver") {
		t.Errorf("home: %q", got)
	}
	none, _ := Parse("none")
	if got := none.CommandLine(cmd, home); got != cmd {
		t.Errorf("none: %q", got)
	}
}

func TestMaskSecrets(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://user:pw@example.com/x", "https://***@example.com/x"},
		{"git clone https://ghp_token@github.com/a/b", "git clone https://***@github.com/a/b"},
		{"redis://:secret@localhost:6379/0", "redis://***@localhost:6379/0"},
		{"--password=hunter2 --user=ana", "--password=*** --user=ana"},
		{"-p --password hunter2", "-p --password ***"},
		{"AWS_SECRET_ACCESS_KEY=abc123 cmd", "AWS_SECRET_ACCESS_KEY=*** cmd"},
		{"curl 'https://x/?a=1&token=abc&b=2'", "curl 'https://x/?a=1&token=***&b=2'"},
		{"key=value", "key=***"},
		{"Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***"},
		{"sessionid=xyz", "sessionid=***"},
		// Not secrets: kept.
		{"/Users/ana/src/keys/app.py --workers 4", "/Users/ana/src/keys/app.py --workers 4"},
		{"http://example.com/path@v1", "http://example.com/path@v1"},
		{"gunicorn app:app -w 4", "gunicorn app:app -w 4"},
		{"--verbose", "--verbose"},
	} {
		if got := MaskSecrets(c.in); got != c.want {
			t.Errorf("MaskSecrets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := StripUserinfo("export to https://u:p@otel.example.com:4318/x"); got != "export to https://otel.example.com:4318/x" {
		t.Errorf("StripUserinfo: %q", got)
	}
}
