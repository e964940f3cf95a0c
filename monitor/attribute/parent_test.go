package attribute

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSameProcessName(t *testing.T) {
	cases := []struct {
		reported string
		p        liveProc
		want     bool
	}{
		{"Python", liveProc{Comm: "python3.12"}, true},
		{"python3.12", liveProc{Comm: "Python"}, true},
		{"Python", liveProc{Comm: "Python"}, true},
		// macOS cuts p_comm at 16, Linux at 15; the report may carry either.
		{"celery-beat-scheduler", liveProc{Comm: "celery-beat-sch"}, true},
		{"celery-beat-sch", liveProc{Comm: "celery-beat-sche"}, true},
		{"gunicorn", liveProc{Comm: "Python", Argv: []string{"/x/.venv/bin/gunicorn"}}, true},
		{"Python", liveProc{Comm: "ruby"}, false},
		{"ruby", liveProc{Comm: "Python"}, false},
		{"celery", liveProc{Comm: "cel"}, false},
		{"", liveProc{Comm: "Python"}, false},
	}
	for _, tc := range cases {
		if got := sameProcessName(tc.reported, &tc.p); got != tc.want {
			t.Errorf("sameProcessName(%q, %+v) = %v, want %v", tc.reported, tc.p, got, tc.want)
		}
	}
}

func TestParseProcArgs(t *testing.T) {
	buf := []byte{3, 0, 0, 0}
	buf = append(buf, "/opt/homebrew/bin/python3.12\x00\x00\x00\x00"...)
	buf = append(buf, "python3.12\x00/Users/a/shop/.venv/bin/gunicorn\x00app:app\x00PATH=/usr/bin\x00HOME=/Users/a\x00"...)
	got := parseProcArgs(buf)
	want := []string{"python3.12", "/Users/a/shop/.venv/bin/gunicorn", "app:app"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("parseProcArgs = %q, want %q", got, want)
	}
	for _, bad := range [][]byte{nil, {1, 0}, {5, 0, 0, 0, 'x'}} {
		_ = parseProcArgs(bad) // no panic on short or cut buffers
	}
}

func containsEvidence(ev []string, s string) bool {
	for _, e := range ev {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}

func TestGroupKeyAsSprintf(t *testing.T) {
	for _, p := range []liveProc{{PID: 1, Start: time.Unix(0, 1)}, {PID: 4242, Start: time.Unix(1796508519, 0)}, {PID: 99999, Start: time.Unix(-5, 0)}} {
		if got, want := groupKey(&p), fmt.Sprintf("parent:%d:%d", p.PID, p.Start.Unix()); got != want {
			t.Errorf("groupKey(%+v) = %q, want %q", p, got, want)
		}
	}
	if groupKey(nil) != "" || groupKey(&liveProc{PID: 3}) != "" {
		t.Error("no start time: want no group")
	}
}
