package redact

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Redaction
		wantErr bool
	}{
		{"", Redaction{Home: true, Args: true, Secrets: true}, false},
		{"none", Redaction{}, false},
		{"home", Redaction{Home: true, Secrets: true}, false},
		{" Home , args", Redaction{Home: true, Args: true, Secrets: true}, false},
		{"project", Redaction{Project: true, Secrets: true}, false},
		{"all", Redaction{Home: true, Args: true, Project: true, Secrets: true}, false},
		{"none,home", Redaction{}, true},
		{"homes", Redaction{}, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			back, err := Parse(got.String())
			if err != nil || back != got {
				t.Errorf("round trip of %q: %+v, %v", got.String(), back, err)
			}
		}
	}
}

func TestApply(t *testing.T) {
	home := "/Users/ana"
	r := Redaction{Home: true}
	tests := []struct {
		name, got, want string
	}{
		{"path", r.Path("/Users/ana/src/shop", home), "~/src/shop"},
		{"home itself", r.Path("/Users/ana", home), "~"},
		{"other user kept", r.Path("/Users/anna/src", home), "/Users/anna/src"},
		{"command line", r.CommandLine("/Users/ana/.venv/bin/python /Users/ana/src/app.py --workers 4", home), "~/.venv/bin/python ~/src/app.py --workers 4"},
		{"args dropped", Redaction{Home: true, Args: true}.CommandLine("/Users/ana/.venv/bin/gunicorn app:app -w 4", home), "~/.venv/bin/gunicorn"},
		{"none keeps", Redaction{}.CommandLine("/Users/ana/bin/x -v", home), "/Users/ana/bin/x -v"},
		{"project hashed", Redaction{Home: true, Project: true}.Folder("/Users/ana/src/shop", home), Redaction{Project: true}.Folder("/Users/ana/src/shop/", "")},
		{"folder home only", r.Folder("/Users/ana/src/shop", home), "~/src/shop"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if h := (Redaction{Project: true}).Folder("/Users/ana/src/shop", home); len(h) != len("sha256:")+12 || h == "/Users/ana/src/shop" {
		t.Errorf("hash = %q", h)
	}
}
