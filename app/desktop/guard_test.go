package desktop

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckProjectFolder(t *testing.T) {
	dir := t.TempDir()
	proj := filepath.Join(dir, "src", "shop")
	app := filepath.Join(dir, "Shared", "Evil.app")
	for _, d := range []string{proj, filepath.Join(app, "Contents", "MacOS")} {
		os.MkdirAll(d, 0o755)
	}
	file := filepath.Join(dir, "notes.txt")
	os.WriteFile(file, nil, 0o644)
	linkToApp := filepath.Join(dir, "innocent")
	os.Symlink(app, linkToApp)
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{proj, proj},
		{proj + "/", ""},
		{"https:/evil.example", ""},
		{"javascript:alert(1)", ""},
		{"-a/Applications/Calculator.app", ""},
		{"src/shop", ""},
		{proj + "/../shop", ""},
		{app, ""},
		{filepath.Join(dir, "Shared", "EVIL.APP"), ""},
		{linkToApp, ""},
		{file, ""},
		{filepath.Join(dir, "missing"), ""},
		{proj + "\n", ""},
		{"", ""},
	} {
		got, err := CheckProjectFolder(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("CheckProjectFolder(%q) = %q, want refused", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckProjectFolder(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckReportFile(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "DiagnosticReports")
	os.MkdirAll(filepath.Join(reports, "Retired"), 0o755)
	good := filepath.Join(reports, "Python-2026-11-26.ips")
	retired := filepath.Join(reports, "Retired", "Python-2026-11-20.ips")
	outside := filepath.Join(dir, "elsewhere.ips")
	for _, p := range []string{good, retired, outside} {
		os.WriteFile(p, []byte("{}"), 0o644)
	}
	link := filepath.Join(reports, "link.ips")
	os.Symlink(outside, link)
	os.Mkdir(filepath.Join(reports, "folder.ips"), 0o755)
	dirs := []string{reports}
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{good, true},
		{retired, true},
		{outside, false},
		{link, false},
		{filepath.Join(reports, "folder.ips"), false},
		{filepath.Join(reports, "missing.ips"), false},
		{reports + "/../elsewhere.ips", false},
		{"https:/evil.example/x.ips", false},
		{"-a/Applications/Calculator.app", false},
		{"Python.ips", false},
	} {
		got, err := CheckReportFile(tc.in, dirs)
		if tc.ok != (err == nil) {
			t.Errorf("CheckReportFile(%q) = %q, %v; want ok %v", tc.in, got, err, tc.ok)
		}
		if !tc.ok && err != nil && !errors.Is(err, ErrNotOpened) && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("CheckReportFile(%q): unexpected error kind %v", tc.in, err)
		}
	}
}

func TestFileURL(t *testing.T) {
	for in, want := range map[string]string{
		"/Users/ana/src/shop":         "file:///Users/ana/src/shop",
		"/Users/ana/My Project/#1?x%": "file:///Users/ana/My%20Project/%231%3Fx%25",
	} {
		if got := FileURL(in); got != want {
			t.Errorf("FileURL(%q) = %q, want %q", in, got, want)
		}
	}
}
