package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// TestEventLineAsMarshal: writeJSONLine writes an event's MarshalJSON
// without json.Marshal's second pass over it; the line is byte for byte
// what json.Marshal gives, for every real report and every kind of event.
func TestEventLineAsMarshal(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "monitor", "report", "testdata", "reports", "*"))
	if len(paths) == 0 {
		t.Fatal("no corpus")
	}
	var evs []monitor.Event
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := report.Parse(data)
		if r == nil {
			continue
		}
		r.Advice += ` <script>&"` // HTML and quotes, as json.Marshal escapes them
		evs = append(evs, monitor.Event{Kind: monitor.KindCrash, Report: r, History: true})
	}
	evs = append(evs,
		monitor.Event{Kind: monitor.KindWaiting, Path: "/x/a.ips", Note: "waiting <for> it"},
		monitor.Event{Kind: monitor.KindError, Path: "/x/b.ips", Err: "bad & odd"},
		monitor.Event{Kind: monitor.KindCore, Core: &report.CoreFile{Path: "/cores/core.1", PID: 1}},
	)
	for _, ev := range evs {
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		writeJSONLine(&got, ev)
		if got.String() != string(want)+"\n" {
			t.Errorf("line differs from json.Marshal:\n%s\n%s", got.String(), want)
		}
	}
}
