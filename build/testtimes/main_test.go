package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRun: a passing and a failing package, as test2json writes them: the
// failing test's output is shown, the passing one's is not, and the
// slowest come first in the summary.
func TestRun(t *testing.T) {
	stream := `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestQuick"}
{"Action":"output","Package":"p/a","Test":"TestQuick","Output":"=== RUN   TestQuick\n"}
{"Action":"pass","Package":"p/a","Test":"TestQuick","Elapsed":0.5}
{"Action":"output","Package":"p/a","Output":"ok  \tp/a\t0.6s\n"}
{"Action":"pass","Package":"p/a","Elapsed":0.6}
{"Action":"run","Package":"p/b","Test":"TestSlow"}
{"Action":"output","Package":"p/b","Test":"TestSlow","Output":"    b_test.go:9: went wrong\n"}
{"Action":"fail","Package":"p/b","Test":"TestSlow","Elapsed":12.25}
{"Action":"output","Package":"p/b","Output":"FAIL\tp/b\t12.3s\n"}
{"Action":"fail","Package":"p/b","Elapsed":12.3}`
	var out strings.Builder
	r := newRun(&out)
	for _, line := range strings.Split(stream, "\n") {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		r.add(e)
	}
	r.summary(10)
	got := out.String()
	for _, want := range []string{"ok  \tp/a\t0.6s\n", "b_test.go:9: went wrong", "FAIL\tp/b\t12.3s\n",
		"slowest packages (of 2):\n     12.3s  p/b\n      0.6s  p/a\n", "slowest tests (of 2):\n     12.2s  p/b.TestSlow\n      0.5s  p/a.TestQuick\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "=== RUN   TestQuick") {
		t.Errorf("a passing test's output was shown:\n%s", got)
	}
	if !r.failed || r.results != 2 {
		t.Errorf("failed %v, results %d", r.failed, r.results)
	}
}
