package doctor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestJSONCarriesWhatTextShows: on the same report, every interpreter the
// text lists (Python's and Ruby's) is a JSON line with the same path,
// version, origin and verdicts (issue 32: doctor --json left out the Ruby
// interpreters the text listed).
func TestJSONCarriesWhatTextShows(t *testing.T) {
	v := func(s string) Verdict { return Verdict{Verdict: s, Reason: "r", Fix: "f"} }
	rep := Report{
		Interpreters: []Interpreter{{Path: "/opt/homebrew/bin/python3.12", Version: "3.12.3", Origin: "homebrew", HardenedRuntime: "no", GetTaskAllow: "no", CoreFromShell: v("no"), CoreFromLaunchd: v("yes")}},
		Rubies:       []Interpreter{{Path: "/opt/homebrew/opt/ruby/bin/ruby", Version: "3.3.5", Origin: "homebrew", HardenedRuntime: "no", GetTaskAllow: "yes", CoreFromShell: v("yes"), CoreFromLaunchd: v("unknown")}},
	}
	var text, js bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	lines := map[string]map[string]any{}
	sc := bufio.NewScanner(&js)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		if m["kind"] == "interpreter" {
			lines[m["path"].(string)] = m
		}
	}
	for _, group := range []struct {
		runtime string
		list    []Interpreter
	}{{"python", rep.Interpreters}, {"ruby", rep.Rubies}} {
		for _, in := range group.list {
			if !strings.Contains(text.String(), in.Path) {
				t.Fatalf("the text does not list %s:\n%s", in.Path, text.String())
			}
			m := lines[in.Path]
			if m == nil {
				t.Errorf("%s (%s): in the text, not in the JSON", in.Path, group.runtime)
				continue
			}
			shell, _ := m["core_from_shell"].(map[string]any)
			apps, _ := m["core_from_launchd"].(map[string]any)
			if m["runtime"] != group.runtime || m["version"] != in.Version || m["origin"] != in.Origin ||
				m["hardened_runtime"] != in.HardenedRuntime || m["get_task_allow"] != in.GetTaskAllow ||
				shell["verdict"] != in.CoreFromShell.Verdict || apps["verdict"] != in.CoreFromLaunchd.Verdict {
				t.Errorf("%s: the JSON %v differs from what the text shows", in.Path, m)
			}
		}
	}
}
