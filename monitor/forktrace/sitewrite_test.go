package forktrace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeVenv makes a venv-shaped folder whose bin/python3 is a shell script
// answering the query as a venv of Python 3.12 would, with site-packages
// at lib/python3.12/site-packages. prefix == base_prefix makes it a
// non-venv interpreter.
func fakeVenv(t *testing.T, dir string, venv bool) (root, site string) {
	t.Helper()
	root = filepath.Join(dir, "venv")
	site = filepath.Join(root, "lib", "python3.12", "site-packages")
	for _, d := range []string{site, filepath.Join(root, "bin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	base := "/opt/python"
	if !venv {
		base = root
	}
	answer := fmt.Sprintf(`{"version":[3,12,1],"executable":%q,"prefix":%q,"base_prefix":%q,"purelib":%q,"stdlib":"/opt/python/lib/python3.12","fork_hook":true,"loaded":false}`,
		filepath.Join(root, "bin", "python3"), root, base, site)
	script := "#!/bin/sh\ncat <<'EOF'\n" + answer + "\nEOF\n"
	if err := os.WriteFile(filepath.Join(root, "bin", "python3"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "pyvenv.cfg"), []byte("home = /opt/python/bin\n"), 0o644)
	return root, site
}

// TestEnableNoFollow: a symbolic link planted under the tracer's names
// (pointing at another of the user's files), a site-packages writable by
// its group or by others, or owned by another user, and a shared
// framework install that is not a venv: Enable refuses, writes nothing,
// and the link's target is byte for byte as it was.
func TestEnableNoFollow(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		venv  bool
		setup func(t *testing.T, dir, site string)
		want  string
		root  bool
	}{
		{"link as the module", true, func(t *testing.T, dir, site string) {
			os.Symlink(filepath.Join(dir, "precious.txt"), filepath.Join(site, ModuleName))
		}, "symbolic link", false},
		{"link as the .pth", true, func(t *testing.T, dir, site string) {
			os.Symlink(filepath.Join(dir, "precious.txt"), filepath.Join(site, PthName))
		}, "symbolic link", false},
		{"dangling link as the module", true, func(t *testing.T, dir, site string) {
			os.Symlink(filepath.Join(dir, "not-yet"), filepath.Join(site, ModuleName))
		}, "symbolic link", false},
		{"group-writable site-packages", true, func(t *testing.T, dir, site string) {
			os.Chmod(site, 0o775)
		}, "writable by group", false},
		{"world-writable lib folder", true, func(t *testing.T, dir, site string) {
			os.Chmod(filepath.Dir(site), 0o777)
		}, "writable by others", false},
		{"site-packages of another user", true, func(t *testing.T, dir, site string) {
			os.Chown(site, 65534, 65534)
		}, "owned by uid 65534", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Getuid() != 0 {
				t.Skip("needs root to give a folder away")
			}
			dir := t.TempDir()
			precious := filepath.Join(dir, "precious.txt")
			want := []byte("the user's own file\n")
			os.WriteFile(precious, want, 0o644)
			root, site := fakeVenv(t, dir, tc.venv)
			tc.setup(t, dir, site)
			before, beforeLines := treeHash(t, root)
			m := New(filepath.Join(dir, "support"), dir)
			_, err := m.Enable(ctx, root)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Enable = %v, want a refusal saying %q", err, tc.want)
			}
			if !errors.Is(err, ErrNotOurs) && !errors.Is(err, ErrRefused) {
				t.Errorf("Enable = %v, want ErrNotOurs or ErrRefused", err)
			}
			if got, _ := os.ReadFile(precious); !bytes.Equal(got, want) {
				t.Errorf("the link's target changed: %q", got)
			}
			if _, err := os.Stat(filepath.Join(dir, "not-yet")); err == nil {
				t.Error("a file was created through a dangling link")
			}
			if after, afterLines := treeHash(t, root); after != before {
				t.Errorf("the venv changed:\n%s", diffLines(beforeLines, afterLines))
			}
		})
	}
}

// TestEnableSharedFramework: a python.org framework build that is not a
// venv is every user's Python: refused, whoever owns it.
func TestEnableSharedFramework(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Library", "Frameworks", "Python.framework", "Versions", "3.12")
	os.MkdirAll(dir, 0o755)
	_, site := fakeVenv(t, dir, false)
	if _, err := openSite(site, false); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "shared framework") {
		t.Errorf("openSite(framework, not a venv) = %v", err)
	}
	d, err := openSite(site, true)
	if err != nil {
		t.Fatalf("openSite(framework venv) = %v", err)
	}
	d.Close()
}

// TestSiteWrite: the write replaces a link at the name instead of writing
// through it, leaves no temporary file, and sets the mode regardless of
// the umask.
func TestSiteWrite(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	os.Mkdir(site, 0o755)
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o600)
	os.Symlink(target, filepath.Join(site, "f.py"))
	d, err := openSite(site, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.write("f.py", []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("written through the link: %q", b)
	}
	fi, err := os.Lstat(filepath.Join(site, "f.py"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Errorf("f.py = %v %v", fi, err)
	}
	ents, _ := os.ReadDir(site)
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	if err := d.remove("f.py"); err != nil {
		t.Fatal(err)
	}
	if err := d.remove("f.py"); err != nil {
		t.Errorf("second remove: %v", err)
	}
}
