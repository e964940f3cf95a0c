package report

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// timeCases are report dates and their edges: every field at and past its
// range, leap days, fractions of every length, a comma, offsets of zero
// and of 24 hours and 60 minutes, one-digit fields and extra text.
func timeCases() []string {
	cases := []string{
		"2024-09-21 15:07:49.9095 -0400", "2019-01-09 12:44:22.075 +0000", "2014-07-16 00:25:09 +0000",
		"2026-12-05 18:26:08.0000 +0000", "2024-05-01 10:00:00 -0000", "2024-05-01 10:00:00.123456789 +0530",
		"2024-05-01 10:00:00.1234567891234 +0530", "2024-05-01 10:00:00. +0200", "2024-05-01 10:00:00,5 +0200",
		"2024-02-29 10:00:00 +0100", "2023-02-29 10:00:00 +0100", "2000-02-29 00:00:00 +0000", "1900-02-29 00:00:00 +0000",
		"2024-04-31 10:00:00 +0100", "2024-04-30 23:59:59 +2359", "2024-04-30 24:00:00 +0000", "2024-04-30 23:60:00 +0000",
		"2024-04-30 23:59:60 +0000", "2024-13-01 10:00:00 +0000", "2024-00-01 10:00:00 +0000", "2024-01-00 10:00:00 +0000",
		"2024-01-01 10:00:00 +2400", "2024-01-01 10:00:00 +0060", "2024-01-01 10:00:00 +2460", "2024-01-01 10:00:00 *0100",
		"2024-01-01 9:00:00 +0100", "2024-01-01 10:00:00 +0100 ", "2024-01-01 10:00:00 +0100x", "2024-01-01T10:00:00+01:00",
		"2024-01-01 10:00:00+0100", "2024-01-01 10:00:00 +01:00", "2024-01-01 10:00:00", "0000-01-01 00:00:00 +0000",
		"9999-12-31 23:59:59.999999999 -2359", "2024-1a-01 10:00:00 +0100", "2024-01-01 10:00:00 -0001", "",
		"2024-01-01 10:00:00.5.5 +0100", "2024-01-01 10:00:00 +01000", "２024-01-01 10:00:00 +0100",
	}
	// Every field swept across its range and past it.
	base := []byte("2024-03-15 12:34:56.789 +0130")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := append([]byte(nil), base...)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(b))
			switch rng.IntN(4) {
			case 0:
				b[i] = byte('0' + rng.IntN(10))
			case 1:
				b[i] = " -:.+,9Z0T"[rng.IntN(10)]
			case 2:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{byte('0' + rng.IntN(10))}, b[i:]...)...)
			}
			if len(b) == 0 {
				break
			}
		}
		cases = append(cases, string(b))
	}
	for y := 1896; y <= 2104; y += 4 {
		for _, md := range []string{"-02-28", "-02-29", "-03-01", "-12-31"} {
			cases = append(cases, strings.Replace("YYYY"+md+" 00:00:00 +0000", "YYYY", string(rune('0'+y/1000))+string(rune('0'+y/100%10))+string(rune('0'+y/10%10))+string(rune('0'+y%10)), 1))
		}
	}
	return cases
}

// TestReportTimeAgreesWithParse: for every case the fast path takes, it
// gives what time.Parse and Format give; and it takes the real reports'
// dates (else it saves nothing).
func TestReportTimeAgreesWithParse(t *testing.T) {
	taken := 0
	for _, s := range timeCases() {
		got, ok := reportTimeRFC3339(s)
		if !ok {
			continue
		}
		taken++
		if want := normTimeParse(s); got != want {
			t.Errorf("reportTimeRFC3339(%q) = %q, time.Parse gives %q", s, got, want)
		}
	}
	for _, s := range []string{"2024-09-21 15:07:49.9095 -0400", "2014-07-16 00:25:09 +0000", "2019-01-09 12:44:22.075 +0000"} {
		if _, ok := reportTimeRFC3339(s); !ok {
			t.Errorf("a real report's date %q not taken", s)
		}
	}
	if taken < 1000 {
		t.Errorf("only %d cases taken", taken)
	}
}

// FuzzReportTime: for any string the fast path takes, time.Parse agrees.
func FuzzReportTime(f *testing.F) {
	for _, s := range timeCases()[:60] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := reportTimeRFC3339(s); ok {
			if want := normTimeParse(s); got != want {
				t.Fatalf("reportTimeRFC3339(%q) = %q, time.Parse gives %q", s, got, want)
			}
		}
	})
}
