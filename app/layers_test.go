package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/forkwatch/forkwatch/"

// appRooms says which rooms of app/ each room may depend on (directly or
// through another): the rooms point only down. The lowest ones
// (app/internal/...) hold what every room uses (the folders, the version,
// the one-instance lock, the words, the managed settings), so that no
// circle forms; the commands (app itself) wire the rest, and no room
// imports them. The desktop and the notifications do not know each other
// (a notification's buttons act on notify.ActionTarget); the menu-bar app
// uses both, but not the background work of `watch` (service), which the
// app command hands it through a ControllerConfig.
var appRooms = map[string][]string{
	"app/internal/wording": nil,
	"app/internal/apptest": nil, // test support: imported only by tests
	"app/internal/appinfo": nil,
	"app/internal/policy":  {"app/internal/wording"},
	"app/desktop":          nil,
	"app/lldb":             {"app/internal/appinfo"},
	"app/pages":            nil,
	"app/notify":           {"app/internal/appinfo", "app/internal/wording"},
	"app/service":          {"app/internal/appinfo", "app/internal/policy", "app/internal/wording"},
	"app/tray": {"app/internal/appinfo", "app/internal/policy", "app/internal/wording",
		"app/desktop", "app/notify", "app/lldb", "app/pages"},
	"app/tray/traytest": {"app/internal/appinfo", "app/internal/policy", "app/internal/wording",
		"app/desktop", "app/notify", "app/lldb", "app/pages", "app/tray"},
	"app": {"app/internal/appinfo", "app/internal/policy", "app/internal/wording",
		"app/desktop", "app/notify", "app/lldb", "app/pages", "app/service", "app/tray"},
}

// systrayOnly: only the tray binding (and so the tray and the command that
// starts it) may pull in the systray library.
var systrayOnly = map[string]bool{"app/tray": true, "app/tray/traytest": true, "app": true}

// appDeps is `go list -deps` of every package under app/, as
// package -> its transitive dependencies (.Deps, which is what -deps
// lists, for all packages in one run of go list).
func appDeps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		deps[strings.TrimPrefix(f[0], module)] = f[1:]
	}
	return deps
}

// TestLayers: every room of app/ depends only on the rooms below it, and
// only the tray pulls in systray. A package under app/ the table does not
// know fails too, so that a new room is given its place.
func TestLayers(t *testing.T) {
	for pkg, deps := range appDeps(t) {
		allowed, known := appRooms[pkg]
		if !known {
			t.Errorf("%s: a room the layers test does not know; give it its place in appRooms", pkg)
			continue
		}
		ok := map[string]bool{}
		for _, a := range allowed {
			ok[a] = true
		}
		var bad []string
		for _, d := range deps {
			d = strings.TrimPrefix(d, module)
			switch {
			case d == "github.com/getlantern/systray" && !systrayOnly[pkg]:
				bad = append(bad, d)
			case (d == "app" || strings.HasPrefix(d, "app/")) && !ok[d]:
				bad = append(bad, d)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("%s depends on %s (it may use only %v)", pkg, strings.Join(bad, ", "), allowed)
		}
	}
}

// maxFuncLines is the longest a function in app/... may be, table literals
// (slices and maps written out as data) not counted.
const maxFuncLines = 80

// TestFunctionLength: no function under app/ (tests included) is longer
// than maxFuncLines lines of code; a long one reads in sections named after
// what they do, each its own function.
func TestFunctionLength(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			if n := codeLines(fset, fn); n > maxFuncLines {
				t.Errorf("%s: %s is %d lines (at most %d, tables not counted)", fset.Position(fn.Pos()), fn.Name.Name, n, maxFuncLines)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// codeLines counts fn's lines, less those of the table literals in it
// (composite literals of slice, array or map type: rows of data).
func codeLines(fset *token.FileSet, fn *ast.FuncDecl) int {
	line := func(p token.Pos) int { return fset.Position(p).Line }
	n := line(fn.End()) - line(fn.Pos()) + 1
	ast.Inspect(fn.Body, func(node ast.Node) bool {
		cl, ok := node.(*ast.CompositeLit)
		if !ok {
			return true
		}
		switch cl.Type.(type) {
		case *ast.ArrayType, *ast.MapType:
			n -= line(cl.Rbrace) - line(cl.Lbrace)
			return false
		}
		return true
	})
	return n
}
