package trust_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust"
	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

func TestMain(m *testing.M) { trusttest.Main(m) }

const nobody = 65534

func TestCheckExecutable(t *testing.T) {
	uid := os.Getuid()
	type setup func(t *testing.T, dir string) string
	file := func(t *testing.T, p string, mode os.FileMode) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	chown := func(t *testing.T, p string, id int) {
		t.Helper()
		if err := os.Lchown(p, id, id); err != nil {
			t.Fatal(err)
		}
	}
	worldDir := func(t *testing.T) string {
		// A world-writable, sticky folder like /tmp, made here so the test
		// does not depend on the machine's /tmp.
		t.Helper()
		d := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o1777); err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name   string
		root   bool // needs root to chown
		setup  setup
		reason string // "" means accepted
		at     string // suffix of Error.Path
	}{
		{name: "own file in own folders", setup: func(t *testing.T, dir string) string {
			return file(t, filepath.Join(dir, "venv", "bin", "python3"), 0o755)
		}},
		{name: "link to own file", setup: func(t *testing.T, dir string) string {
			real := file(t, filepath.Join(dir, "base", "bin", "python3.12"), 0o755)
			link := filepath.Join(dir, "venv", "bin", "python3")
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
		{name: "relative link with ..", setup: func(t *testing.T, dir string) string {
			file(t, filepath.Join(dir, "base", "python3.12"), 0o755)
			link := filepath.Join(dir, "venv", "bin", "python3")
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink("../../base/python3.12", link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
		{name: "file writable by others", setup: func(t *testing.T, dir string) string {
			return file(t, filepath.Join(dir, "bin", "python3"), 0o757)
		}, reason: "writable by others", at: "/bin/python3"},
		{name: "folder writable by group", setup: func(t *testing.T, dir string) string {
			p := file(t, filepath.Join(dir, "bin", "python3"), 0o755)
			os.Chmod(filepath.Dir(p), 0o775)
			return p
		}, reason: "writable by group", at: "/bin"},
		{name: "file in a sticky world-writable folder", setup: func(t *testing.T, dir string) string {
			return file(t, filepath.Join(worldDir(t), "evil", "bin", "python3"), 0o755)
		}, reason: "writable by others", at: "/shared"},
		{name: "link in a world-writable folder to a good file", setup: func(t *testing.T, dir string) string {
			real := file(t, filepath.Join(dir, "good", "python3"), 0o755)
			link := filepath.Join(worldDir(t), "python3")
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, reason: "writable by others", at: "/shared"},
		{name: "own link to a world-writable place", setup: func(t *testing.T, dir string) string {
			real := file(t, filepath.Join(worldDir(t), "python3"), 0o755)
			link := filepath.Join(dir, "bin", "python3")
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, reason: "writable by others", at: "/shared"},
		{name: "a folder", setup: func(t *testing.T, dir string) string {
			return dir
		}, reason: "not a regular file"},
		{name: "missing", setup: func(t *testing.T, dir string) string {
			return filepath.Join(dir, "nope", "python3")
		}, reason: "cannot read: no such file or directory", at: "/nope"},
		{name: "link loop", setup: func(t *testing.T, dir string) string {
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			os.Symlink(b, a)
			os.Symlink(a, b)
			return a
		}, reason: "too many symbolic links"},
		{name: "file of another user", root: true, setup: func(t *testing.T, dir string) string {
			p := file(t, filepath.Join(dir, "venv", "bin", "python3"), 0o755)
			chown(t, p, nobody)
			return p
		}, reason: "owned by uid 65534", at: "/venv/bin/python3"},
		{name: "folder of another user", root: true, setup: func(t *testing.T, dir string) string {
			p := file(t, filepath.Join(dir, "evil", ".venv", "bin", "python3"), 0o755)
			chown(t, filepath.Join(dir, "evil"), nobody)
			return p
		}, reason: "owned by uid 65534", at: "/evil"},
		{name: "link owned by another user in our folder is followed", root: true, setup: func(t *testing.T, dir string) string {
			// The link's own owner does not matter: only the folder
			// holding it decides who can change it.
			real := file(t, filepath.Join(dir, "base", "python3"), 0o755)
			link := filepath.Join(dir, "bin", "python3")
			os.MkdirAll(filepath.Dir(link), 0o755)
			os.Symlink(real, link)
			chown(t, link, nobody)
			return link
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && uid != 0 {
				t.Skip("needs root to give a file to another user")
			}
			p := tt.setup(t, t.TempDir())
			err := trust.CheckExecutable(p, uid)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("trust.CheckExecutable(%s) = %v, want nil", p, err)
				}
				return
			}
			var te *trust.Error
			if !errors.As(err, &te) || !errors.Is(err, trust.ErrUntrusted) {
				t.Fatalf("trust.CheckExecutable(%s) = %v, want *Error", p, err)
			}
			if te.Reason != tt.reason || !strings.HasSuffix(te.Path, tt.at) {
				t.Errorf("trust.CheckExecutable(%s) = %q at %q, want %q at ...%s", p, te.Reason, te.Path, tt.reason, tt.at)
			}
			if !strings.HasPrefix(err.Error(), "not run: "+tt.reason) {
				t.Errorf("message %q", err.Error())
			}
		})
	}
}

func TestCheckFolder(t *testing.T) {
	dir := t.TempDir()
	if err := trust.CheckFolder(dir, os.Getuid()); err != nil {
		t.Fatalf("own temp folder: %v", err)
	}
	f := filepath.Join(dir, "f")
	os.WriteFile(f, nil, 0o644)
	if err := trust.CheckFolder(f, os.Getuid()); err == nil || !strings.Contains(err.Error(), "not written: not a folder") {
		t.Fatalf("file as folder: %v", err)
	}
	os.Chmod(dir, 0o777)
	defer os.Chmod(dir, 0o700)
	if err := trust.CheckFolder(dir, os.Getuid()); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Fatalf("world-writable folder: %v", err)
	}
}

// The machine's own interpreters pass: root owns /usr/bin and what it
// links to (a read-only look, nothing runs).
func TestSystemPythonTrusted(t *testing.T) {
	p := "/usr/bin/python3"
	if _, err := os.Stat(p); err != nil {
		t.Skip("no", p)
	}
	if err := trust.CheckExecutable(p, os.Getuid()); err != nil {
		t.Fatal(err)
	}
	if err := trust.CheckExecutable("/tmp", os.Getuid()); err == nil {
		t.Fatal("/tmp accepted")
	}
}
