package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/notify"
	"github.com/forkwatch/forkwatch/app/tray"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// update rewrites the golden files: go test ./app -run Golden -update.
// Review the diff: a golden file changes only when output changes on
// purpose.
var update = flag.Bool("update", false, "rewrite app/testdata/golden")

// goldenReports is every real report in the corpus, sorted.
func goldenReports(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(sample("*"))
	if err != nil || len(paths) < 20 {
		t.Fatalf("corpus: %d reports (%v)", len(paths), err)
	}
	sort.Strings(paths)
	return paths
}

// checkGolden compares got with testdata/golden/name, or rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./app -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(if the change is on purpose: go test ./app -run Golden -update, and review the diff)", p, i+1, g, w)
			}
		}
	}
}

// TestGoldenInspect: `inspect --json` and `inspect` over the whole corpus
// print what they printed before (refactors must not change output).
func TestGoldenInspect(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	paths := goldenReports(t)
	js, _ := runBinStdout(t, env, append([]string{"inspect", "--json"}, paths...)...)
	checkGolden(t, "inspect.jsonl", []byte(js))
	human, _ := runBinStdout(t, env, append([]string{"inspect"}, paths...)...)
	checkGolden(t, "inspect.txt", []byte(human))
}

// TestGoldenMenuAndMessages: for each report of the corpus, the
// notification's title and body and the menu's crash line and submenu.
func TestGoldenMenuAndMessages(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	for _, p := range goldenReports(t) {
		r, err := report.ReadFile(p)
		if r == nil {
			fmt.Fprintf(&out, "== %s\nerror: %v\n", filepath.Base(p), err)
			continue
		}
		title, body := notify.CrashMessage(r, nil)
		fmt.Fprintf(&out, "== %s\ntitle: %s\nbody: %s\n", filepath.Base(p), title, body)
		for _, it := range tray.BuildMenu(tray.MenuState{Now: now, Crashes: []report.Report{*r}}) {
			if it.Hidden || !(it.ID == "status" || strings.HasPrefix(it.ID, "crash") || strings.HasPrefix(it.Parent, "crash")) {
				continue
			}
			fmt.Fprintf(&out, "menu %s: %s | %s\n", it.ID, it.Title, it.Tooltip)
		}
	}
	checkGolden(t, "messages.txt", out.Bytes())
}

// TestGoldenHistory: the corpus recorded in the history database reads back
// the same (crashes and their grouping by cause and program).
func TestGoldenHistory(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	dbPath := filepath.Join(t.TempDir(), "history.db")
	db, err := history.Open(dbPath, history.Options{PruneEvery: -1, Location: time.UTC, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range goldenReports(t) {
		if r, _ := report.ReadFile(p); r != nil {
			r.Path = filepath.Base(r.Path)
			db.MarkSeen(r, now)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := history.OpenReader(dbPath, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx := context.Background()
	since := time.Time{}
	var out bytes.Buffer
	crashes, err := rd.Crashes(ctx, since, 0)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(crashes, func(i, j int) bool { return fmt.Sprint(crashes[i]) < fmt.Sprint(crashes[j]) })
	enc := json.NewEncoder(&out)
	for _, c := range crashes {
		enc.Encode(c)
	}
	for _, by := range []string{"cause", "program", "project"} {
		g, err := rd.GroupBy(ctx, by, since, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "by %s: ", by)
		enc.Encode(g)
	}
	checkGolden(t, "history.jsonl", out.Bytes())
}
