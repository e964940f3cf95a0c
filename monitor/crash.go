package monitor

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The legacy text layout (macOS 10.13-11 .crash files, and the "Translated
// Report" Console shows for a .ips): "Key:   value" header lines, then
// "Application Specific Information:", the threads ("Thread 0 Crashed::"),
// thread state and "Binary Images:".

var (
	reKeyValue   = regexp.MustCompile(`^([A-Z][A-Za-z /]*?):\s+(.*?)\s*$`)
	reNamePID    = regexp.MustCompile(`^(.*?)\s*\[(\d+)\]\s*$`)
	reException  = regexp.MustCompile(`^(\S+)(?:\s+\((\w+)\))?`)
	reTermReason = regexp.MustCompile(`Namespace\s+([A-Za-z_]+),\s*Code\s+(\S+)`)
	reThreadHead = regexp.MustCompile(`^Thread (\d+)( Crashed)?:`)
	reFrame      = regexp.MustCompile(`^\d+\s+(.+?)\s+(?:0x[0-9a-fA-F]+)\s+(.*)$`)
	reImagePath  = regexp.MustCompile(`\s(/\S.*)$`)
)

func parseCrash(data []byte) (*facts, error) {
	if bytes.IndexByte(data[:min(len(data), 4096)], 0) >= 0 {
		return nil, fmt.Errorf("binary data: %w", ErrNotCrashReport)
	}
	f := &facts{format: FormatCrash}
	var (
		section       string // "", "asi", "thread", "crashed", "images"
		crashedThread = -1
		sawImages     bool
		markers       int // lines that only a crash report has
		threadFrames  = map[int][]frame{}
		curThread     = -1
	)
	for _, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		if !utf8.ValidString(line) {
			line = strings.ToValidUTF8(line, "\uFFFD")
		}
		trimmed := strings.TrimSpace(line)
		if m := reThreadHead.FindStringSubmatch(trimmed); m != nil {
			n, _ := strconv.Atoi(m[1])
			curThread = n
			section = "thread"
			if m[2] != "" {
				crashedThread = n
				markers++
			}
			continue
		}
		switch {
		case trimmed == "":
			if section == "asi" || section == "thread" {
				section = ""
			}
			continue
		case strings.HasPrefix(trimmed, "Application Specific Information:"):
			section = "asi"
			if rest := strings.TrimSpace(strings.TrimPrefix(trimmed, "Application Specific Information:")); rest != "" {
				f.asi = append(f.asi, rest)
			}
			continue
		case strings.HasPrefix(trimmed, "Binary Images:"):
			section = "images"
			continue
		}
		switch section {
		case "asi":
			if reKeyValue.MatchString(trimmed) && !strings.Contains(trimmed, "objc[") && isHeaderKey(trimmed) {
				section = ""
				break
			}
			f.asi = append(f.asi, trimmed)
			continue
		case "thread":
			if m := reFrame.FindStringSubmatch(trimmed); m != nil {
				threadFrames[curThread] = append(threadFrames[curThread], frame{image: m[1], symbol: m[2]})
				continue
			}
			if trimmed == "…" || trimmed == "..." {
				continue
			}
			section = ""
		case "images":
			if m := reImagePath.FindStringSubmatch(trimmed); m != nil {
				f.images = append(f.images, m[1])
				sawImages = true
				continue
			}
			if strings.HasPrefix(trimmed, "0x") {
				continue
			}
			section = ""
		}
		m := reKeyValue.FindStringSubmatch(trimmed)
		if m == nil {
			continue
		}
		key, val := m[1], m[2]
		switch key {
		case "Process":
			markers++
			if nm := reNamePID.FindStringSubmatch(val); nm != nil {
				f.process = nm[1]
				f.pid, _ = strconv.Atoi(nm[2])
			} else {
				f.process = val
			}
		case "Path":
			f.exePath = val
		case "Identifier":
			if strings.Contains(val, ".") {
				f.bundleID = val
			}
		case "Parent Process":
			if nm := reNamePID.FindStringSubmatch(val); nm != nil {
				f.parent = nm[1]
				f.parentPID, _ = strconv.Atoi(nm[2])
			} else {
				f.parent = val
			}
		case "Responsible":
			if nm := reNamePID.FindStringSubmatch(val); nm != nil {
				f.responsible = nm[1]
			} else {
				f.responsible = val
			}
		case "Date/Time":
			f.time = val
		case "OS Version":
			f.osVersion = val
		case "Exception Type":
			markers++
			// "EXC_CRASH (SIGABRT)", or on OS X 10.8 just "SIGSEGV". A
			// wrapped paste can run on into the next key.
			if em := reException.FindStringSubmatch(val); em != nil {
				if em[2] != "" {
					f.exception, f.signal = em[1], em[2]
				} else if strings.HasPrefix(em[1], "SIG") {
					f.signal = em[1]
				} else {
					f.exception = em[1]
				}
			}
		case "Termination Reason":
			markers++
			if tm := reTermReason.FindStringSubmatch(val); tm != nil {
				f.termNS, f.termCode = tm[1], tm[2]
			}
		case "Crashed Thread":
			markers++
			if n, err := strconv.Atoi(strings.Fields(val)[0]); err == nil {
				crashedThread = n
			}
		}
	}
	if markers == 0 {
		return nil, fmt.Errorf("no crash report fields: %w", ErrNotCrashReport)
	}
	if crashedThread >= 0 {
		f.crashed = threadFrames[crashedThread]
	}
	if f.process == "" {
		if name := guessProcess(f.crashed); name != "" {
			f.process, f.processGuess = name, true
		}
	}
	// A complete text report ends with its list of binary images.
	f.partial = !sawImages
	return f, nil
}

// isHeaderKey reports whether a "Key: value" line inside the application
// specific information is really the next header (wrapped pastes).
func isHeaderKey(line string) bool {
	for _, k := range []string{"Thread ", "Backtrace", "Last Exception", "Crashed Thread", "Exception ", "Termination ", "Binary Images", "External Modification", "VM Region"} {
		if strings.HasPrefix(line, k) {
			return true
		}
	}
	return false
}

// guessProcess names the process from the first non-system image of the
// crashed thread, for excerpts that start below the header.
func guessProcess(frames []frame) string {
	for _, fr := range frames {
		if isSystemImage(fr.image) {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(fr.image, ".dylib"), ".debug")
		return name
	}
	return ""
}

func isSystemImage(name string) bool {
	if name == "" || name == "???" || name == "dyld" || strings.HasPrefix(name, "lib") || strings.HasPrefix(name, "com.apple.") {
		return true
	}
	switch name {
	case "CoreFoundation", "Foundation", "AppKit", "HIToolbox", "SkyLight", "Metal", "IOGPU", "CoreGraphics", "Security", "CFNetwork", "SystemConfiguration", "QuartzCore":
		return true
	}
	return false
}
