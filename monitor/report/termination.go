package report

import (
	"strconv"
	"strings"
)

// The termination reason, read by its parts. Its text has changed with
// every layout and is pasted with its spacing mangled, so it is never
// compared as a whole:
//
//	macOS 10.13-11   "Namespace OBJC, Code 0x1"              (python/cpython#75020)
//	macOS 12-15      "Namespace OBJC, Code 1 "               (rails/solid_queue#357)
//	macOS 14         "Namespace SIGNAL, Code 11 Segmentation fault: 11" (fork-dev/Tracker#2103)
//	macOS 26         "Namespace OBJC, Code 1, "              (macfuse/macfuse#1179)
//	pasted           "Namespace OBJC, Code 1,"               (veracrypt/VeraCrypt#1785)
//	.ips             {"namespace":"OBJC","code":1,"flags":646} or {"code":11,"namespace":"SIGNAL","indicator":"..."}
//
// terminationParts returns the namespace and the code as written ("OBJC",
// "0x1"), without the separators and extra fields that follow; "" for a
// part that is not there. Compare codes with normCode.
func terminationParts(val string) (namespace, code string) {
	rest := val
	if i := strings.Index(rest, "Namespace"); i >= 0 {
		rest = rest[i+len("Namespace"):]
	} else {
		return "", ""
	}
	rest = strings.TrimLeft(rest, " \t:")
	n := 0
	for n < len(rest) && (rest[n] == '_' || rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= '0' && rest[n] <= '9') {
		n++
	}
	namespace, rest = rest[:n], rest[n:]
	if namespace == "" {
		return "", ""
	}
	i := strings.Index(rest, "Code")
	if i < 0 {
		return namespace, ""
	}
	rest = strings.TrimLeft(rest[i+len("Code"):], " \t:")
	end := strings.IndexAny(rest, " \t,;")
	if end < 0 {
		end = len(rest)
	}
	return namespace, strings.Trim(rest[:end], `",;`)
}

// normCode writes a termination code in decimal: "0x1" and "1" are the
// same code. Anything that is no number is kept, trimmed.
func normCode(c string) string {
	c = strings.Trim(strings.TrimSpace(c), `",;`)
	if c == "" {
		return ""
	}
	if v, err := strconv.ParseUint(c, 0, 64); err == nil {
		return strconv.FormatUint(v, 10)
	}
	if v, err := strconv.ParseInt(c, 0, 64); err == nil {
		return strconv.FormatInt(v, 10)
	}
	return c
}

// isObjCTermination: the Objective-C runtime's fatal error (objc4's
// _objc_fatal aborts with reason namespace OBJC, code 1), the termination
// reason of the +initialize fork check.
func isObjCTermination(ns, code string) bool {
	return strings.EqualFold(ns, "OBJC") && normCode(code) == "1"
}
