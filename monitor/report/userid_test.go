package report

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// TestUserID: the report's user as the header gives it, kept as a number
// (a uid past uid_t's range as (uid_t)-1, which no process has), and none
// for "omitted".
func TestUserID(t *testing.T) {
	const crash = "Process:               Python [4242]\nPath:                  /usr/local/bin/python3.12\nUser ID:               %s\nCrashed Thread:        0\n\nException Type:        EXC_CRASH (SIGABRT)\n"
	const ips = `{"app_name":"Python","bug_type":"309","incident_id":"11111111-2222-3333-4444-555555555555"}
{"procName":"Python","pid":4242,"userID":%s,"procPath":"/usr/local/bin/python3.12","exception":{"type":"EXC_CRASH","signal":"SIGABRT"}}`
	for _, tc := range []struct {
		format, user string
		want         string
	}{
		{crash, "501", "501"},
		{crash, "0", "0"},
		{crash, "+0501", "501"},
		{crash, "omitted", ""},
		{crash, "-1", ""},
		{crash, "4294967295", "4294967295"},
		{crash, "4294967296", "4294967295"},
		{crash, "99999999999999999999", ""}, // past int64: not a number
		{ips, "501", "501"},
		{ips, "-2", ""},
		{ips, "8589934592", "4294967295"},
	} {
		data := strings.Replace(tc.format, "%s", tc.user, 1)
		r, _ := Parse([]byte(data))
		if r == nil {
			t.Fatalf("%q: no report", data)
		}
		if got := r.UserIDText(); got != tc.want || r.HasUserID != (tc.want != "") {
			t.Errorf("user %q: UserIDText %q, HasUserID %v; want %q", tc.user, got, r.HasUserID, tc.want)
		}
	}
}

// TestReportSize: a sweep allocates a Report for each of thousands of
// reports, and the allocator rounds its size up to a size class, with an
// 8-byte header for an object this large that holds pointers (Go 1.22's
// allocation headers): 632 bytes take 640, 633 take 704
// (runtime/sizeclasses.go). A field added past that makes every Report a
// tenth larger: find room for it (the bools pack beside UserID) or accept
// the cost here.
func TestReportSize(t *testing.T) {
	const n = 1000
	var keep []*Report
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		keep = append(keep[:0], &Report{})
	}
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(keep)
	if per := (m1.TotalAlloc - m0.TotalAlloc) / n; per > 640 {
		t.Errorf("a Report takes %d bytes (%d its own), past the 640-byte size class", per, unsafe.Sizeof(Report{}))
	}
}
