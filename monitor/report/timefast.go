package report

// reportTimeRFC3339 is time.Parse(timeLayouts[0], s) formatted as
// time.RFC3339, for the date every real report writes
// ("2024-09-21 15:07:49.9095 -0400"), without either: its fields are
// checked as time.Parse checks them and copied, in one allocation. Parse
// and Format took a fortieth of a sweep's time. ok is false for anything
// else (another layout, a comma before the fraction, a one-digit hour, an
// offset of 24 hours or 60 minutes, which time.Parse takes and Format
// writes otherwise), and normTime asks time.Parse.
// TestReportTimeAgreesWithParse and FuzzReportTime hold it to time.Parse.
func reportTimeRFC3339(s string) (string, bool) {
	// YYYY-MM-DD hh:mm:ss[.f...] ±hhmm
	if len(s) < len("2006-01-02 15:04:05 -0700") || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return "", false
	}
	num := func(i int) (int, bool) {
		a, b := s[i], s[i+1]
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return 0, false
		}
		return int(a-'0')*10 + int(b-'0'), true
	}
	y1, ok1 := num(0)
	y2, ok2 := num(2)
	month, ok3 := num(5)
	day, ok4 := num(8)
	hour, ok5 := num(11)
	minute, ok6 := num(14)
	sec, ok7 := num(17)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 {
		return "", false
	}
	year := y1*100 + y2
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return "", false
	}
	rest := s[19:]
	if len(rest) > 0 && rest[0] == '.' {
		// The fraction: any number of digits (RFC 3339 here leaves it out).
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return "", false
		}
		rest = rest[i:]
	}
	if len(rest) != 6 || rest[0] != ' ' || rest[1] != '+' && rest[1] != '-' {
		return "", false
	}
	zh, ok1 := num(len(s) - 4)
	zm, ok2 := num(len(s) - 2)
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return "", false
	}
	var b [len("2006-01-02T15:04:05-07:00")]byte
	n := copy(b[:], s[:10])
	b[n] = 'T'
	n++
	n += copy(b[n:], s[11:19])
	if zh == 0 && zm == 0 {
		b[n] = 'Z'
		n++
	} else {
		b[n] = rest[1]
		b[n+1], b[n+2] = rest[2], rest[3]
		b[n+3] = ':'
		b[n+4], b[n+5] = rest[4], rest[5]
		n += 6
	}
	return string(b[:n]), true
}

// daysIn is the number of days in month of year (the Gregorian calendar,
// as package time counts).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
