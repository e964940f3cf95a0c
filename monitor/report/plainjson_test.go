package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// plainSeeds are the frames, images and header lines of the real .ips
// reports, with hand-made objects at the edges of what the plain reader
// takes: escapes, case-folded keys, odd numbers, invalid UTF-8, nesting.
func plainSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	seeds := [][]byte{
		[]byte(`{"symbol":"a","imageIndex":1}`),
		[]byte(`{"Symbol":"a","imageIndex":1}`),
		[]byte(`{"ſymbol":"a"}`),
		[]byte(`{"symbol":"a\"b","imageIndex":1}`),
		[]byte(`{"symbol":"a\/b","imageIndex":-0}`),
		[]byte(`{"symbol":"a","imageIndex":01}`),
		[]byte(`{"symbol":"a","imageIndex":1.5}`),
		[]byte(`{"symbol":"a","imageIndex":1e3}`),
		[]byte(`{"symbol":"a","imageIndex":99999999999999999999}`),
		[]byte(`{"symbol":null,"imageIndex":null}`),
		[]byte(`{"symbol":"\xff","imageIndex":1}`),
		[]byte("{\"symbol\":\"a\tb\"}"),
		[]byte(`{"symbol":"a","symbol":"b"}`),
		[]byte(`{"symbol":"a",}`),
		[]byte(`{"x":[1,2],"symbol":"a"}`),
		[]byte(`{"x":truex}`),
		[]byte(`{} `),
		[]byte(`{"name":"Python","path":"\/usr\/lib\/x","NAME":"y"}`),
		[]byte(`{"app_name":"x","bug_type":"309","name":"y","timestamp":"2024-01-01 00:00:00.00 +0000"}`),
		[]byte(`{"bug_type":309}`),
		[]byte(`{"incident_id":"A","Incident_ID":"B"}`),
		[]byte(`{"codes":"0x0, 0x0","rawCodes":[0,0],"type":"EXC_CRASH","signal":"SIGABRT"}`),
		[]byte(`{"type":5}`),
		[]byte(`{"flags":518,"code":4,"namespace":"OBJC","indicator":"x"}`),
		[]byte(`{"code":"0x1","namespace":"SIGNAL"}`),
		[]byte(`{"code":[1,2],"Namespace":"A"}`),
		[]byte(`{"libsystem_c.dylib":["crashed on child side of fork pre-exec"],"x":[]}`),
		[]byte(`{"a":["x",1]}`),
		[]byte(`{"a":["x"],"a":["y"]}`),
		[]byte(`{"a":[["x"]]}`),
		[]byte(`{"train":"macOS 14.5","build":"23F79","releaseType":"User","isEmbedded":false}`),
		[]byte(`501`),
		[]byte(`00`), // found by fuzzing: Atoi takes it, JSON does not
		[]byte(`null`),
		[]byte(`-1`),
	}
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*.ips"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		seeds = append(seeds, line)
		// Every object in the body that skipValue cuts out: frames and
		// images among them.
		for i := 0; i < len(data) && len(seeds) < 4000; i++ {
			if data[i] == '{' {
				if end, ok := skipValue(data, i); ok && end-i < 2000 {
					seeds = append(seeds, data[i:end])
				}
			}
		}
	}
	return seeds
}

// checkPlain holds decodeFrame, decodeImage and decodeHeader to what
// encoding/json gives for the same bytes.
func checkPlain(t *testing.T, raw []byte) {
	var want ipsFrame
	wantOK := json.Unmarshal(raw, &want) == nil
	got, gotOK := decodeFrame(raw)
	if gotOK != wantOK || gotOK && got != want {
		t.Fatalf("decodeFrame(%q) = %+v, %v; encoding/json: %+v, %v", raw, got, gotOK, want, wantOK)
	}
	var img struct {
		Name string `json:"name"`
		Path string `json:"path"`
	}
	imgOK := json.Unmarshal(raw, &img) == nil
	name, path, ok := decodeImage(raw)
	if ok != imgOK || ok && (name != img.Name || path != img.Path) {
		t.Fatalf("decodeImage(%q) = %q, %q, %v; encoding/json: %+v, %v", raw, name, path, ok, img, imgOK)
	}
	var wantH, gotH ipsHeader
	errW := json.Unmarshal(raw, &wantH)
	errG := decodeHeader(raw, &gotH)
	if (errW == nil) != (errG == nil) || errW == nil && gotH != wantH {
		t.Fatalf("decodeHeader(%q) = %+v, %v; encoding/json: %+v, %v", raw, gotH, errG, wantH, errW)
	}
	// The body's object and pointer members, each decoded into a body
	// that already holds a value (a member given twice merges, as
	// encoding/json merges into what is there).
	for _, key := range []string{"bundleInfo", "osVersion", "exception", "termination", "asi", "userID", "faultingThread"} {
		for _, prior := range [][]byte{nil, []byte(`{"type":"T0","train":"t0","CFBundleIdentifier":"id0","namespace":"N0","code":7,"x":["a"]}`)} {
			var viaPlain, viaJSON ipsBody
			if prior != nil {
				json.Unmarshal(prior, viaPlain.member(key))
				json.Unmarshal(prior, viaJSON.member(key))
			}
			if !viaPlain.decodePlain(key, raw) {
				continue
			}
			if err := json.Unmarshal(raw, viaJSON.member(key)); err != nil {
				t.Fatalf("decodePlain(%s, %q) took what encoding/json refuses: %v", key, raw, err)
			}
			if !reflect.DeepEqual(bodyMembers(viaPlain), bodyMembers(viaJSON)) {
				t.Fatalf("decodePlain(%s, %q) = %+v; encoding/json: %+v", key, raw, viaPlain, viaJSON)
			}
		}
	}
	arr := append(append([]byte("["), raw...), ']')
	var wantFr []ipsFrame
	frOK := json.Unmarshal(arr, &wantFr) == nil
	gotFr, ok := decodeFrames(arr)
	if ok != frOK || ok && !reflect.DeepEqual(gotFr, wantFr) {
		t.Fatalf("decodeFrames(%q) = %+v, %v; encoding/json: %+v, %v", arr, gotFr, ok, wantFr, frOK)
	}
}

// TestPlainJSONAgrees: on every object of the real reports and on the edge
// cases, the plain reader decodes exactly what encoding/json does, or
// hands over to it.
func TestPlainJSONAgrees(t *testing.T) {
	seeds := plainSeeds(t)
	if len(seeds) < 500 {
		t.Fatalf("only %d seeds", len(seeds))
	}
	plainTaken := 0
	for _, s := range seeds {
		checkPlain(t, s)
		if plainObject(s, func(_, _ []byte) bool { return true }) {
			plainTaken++
		}
	}
	// The point of the plain reader: nearly every real object is plain.
	if plainTaken < len(seeds)/2 {
		t.Fatalf("plain reader took %d of %d objects", plainTaken, len(seeds))
	}
}

// FuzzPlainObjectAgreesWithJSON: for any bytes, the plain reader agrees
// with encoding/json.
func FuzzPlainObjectAgreesWithJSON(f *testing.F) {
	for _, s := range plainSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkPlain)
}

// TestContainsForkFrame: the one-pass scan finds exactly what
// bytes.Contains finds for each symbol, at the edges of the buffer too.
func TestContainsForkFrame(t *testing.T) {
	var cases []string
	for _, sym := range forkFrameSymbols {
		cases = append(cases, sym, "x"+sym, sym+"x", `"symbol":"`+sym+`"`, sym[:len(sym)-1], sym[1:],
			"FFFF"+sym, sym[:len(sym)/2]+"F"+sym[len(sym)/2:])
	}
	cases = append(cases, "", "F", "Fork", "performFork", "objc_initializeAfterFork", "__THE_PROCESS_HAS_FORKED")
	for _, c := range cases {
		want := false
		for _, sym := range forkFrameSymbols {
			want = want || bytes.Contains([]byte(c), []byte(sym))
		}
		if got := containsForkFrame([]byte(c)); got != want {
			t.Errorf("containsForkFrame(%q) = %v, want %v", c, got, want)
		}
	}
}

// TestPlainASI: the application specific information of real reports
// (an object of string arrays) is read by the plain reader, not handed to
// encoding/json: plainStrings once refused every array that was not empty,
// and each of those reports paid for reflection. What it reads, and what
// it refuses, agree with encoding/json (checkPlain).
func TestPlainASI(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		plain bool
	}{
		{`{"libsystem_c.dylib":["crashed on child side of fork pre-exec"]}`, true},
		{`{"CoreFoundation":["*** multi-threaded process forked ***"],"libsystem_c.dylib":["crashed on child side of fork pre-exec"]}`, true},
		{`{ "a" : [ "x" , "y" ] , "b" : [ ] }`, true},
		{`{"a":["x","y"],"a":["z"]}`, true},
		{`{"a":["\/usr\/lib"]}`, true},
		{`{"a":["x",]}`, false},
		{`{"a":["x" "y"]}`, false},
		{`{"a":["x",1]}`, false},
		{`{"a":["x",null]}`, false},
		{`{"a":["\n"]}`, false},
		{`{"a":["x"]`, false},
	} {
		var b ipsBody
		if got := b.decodePlain("asi", []byte(tc.raw)); got != tc.plain {
			t.Errorf("decodePlain(asi, %s) = %v, want %v", tc.raw, got, tc.plain)
		}
		checkPlain(t, []byte(tc.raw))
	}
}

// bodyMembers is b as its JSON members give it: its integer members
// pointing at copies, not into the rooms the plain reader keeps in the
// body (ints, text), which are emptied.
func bodyMembers(b ipsBody) ipsBody {
	if b.UserID != nil {
		n := *b.UserID
		b.UserID = &n
	}
	if b.FaultingThread != nil {
		n := *b.FaultingThread
		b.FaultingThread = &n
	}
	b.ints, b.text = [2]int{}, nil
	return b
}
