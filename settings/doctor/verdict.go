package doctor

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/settings"
)

// CoreSystem is what decides core files for every interpreter alike.
type CoreSystem struct {
	// ShellLimit is the core limit a new terminal's shell ends up with:
	// "0", "unlimited", a number of blocks, or "" when unknown.
	ShellLimit string `json:"shell_limit"`
	// ShellSource says where ShellLimit comes from (file:line, or launchd).
	ShellSource string `json:"shell_source"`
	// ShellConflict is a start-up line that raises the limit again
	// ("~/.zshrc:40: ulimit -c unlimited"), the line to delete.
	ShellConflict string `json:"shell_conflict,omitempty"`
	// LaunchdSoft and LaunchdHard are `launchctl limit core`.
	LaunchdSoft string `json:"launchd_soft"`
	LaunchdHard string `json:"launchd_hard"`
	// Coredump is `sysctl -n kern.coredump` ("1" on, "0" off).
	Coredump string `json:"kern_coredump"`
	// CoreFile is `sysctl -n kern.corefile`; CoreDir its folder.
	CoreFile         string `json:"kern_corefile"`
	CoreDir          string `json:"core_dir"`
	CoreDirExists    bool   `json:"core_dir_exists"`
	CoreDirWritable  bool   `json:"core_dir_writable"`
	UlimitToggleOn   bool   `json:"ulimit_core_on"`
	CoredumpToggleOn bool   `json:"coredump_off_on"`
	// Errors are the facts that could not be read.
	Errors []string `json:"errors,omitempty"`
}

var reLimitValue = regexp.MustCompile(`(?:ulimit\s+-[A-Za-z]*c[A-Za-z]*\s+|limit\s+coredumpsize\s+)(unlimited|[0-9]+)`)

func readCoreSystem(ctx context.Context, o Options) CoreSystem {
	var cs CoreSystem
	const t = 5 * time.Second
	if out, _, err := runTool(ctx, t, nil, "sysctl", "-n", "kern.coredump"); err == nil {
		cs.Coredump = strings.TrimSpace(out)
		cs.CoredumpToggleOn = cs.Coredump == "0"
	} else {
		cs.Errors = append(cs.Errors, "kern.coredump: "+errText(err))
	}
	if out, _, err := runTool(ctx, t, nil, "sysctl", "-n", "kern.corefile"); err == nil {
		cs.CoreFile = strings.TrimSpace(out)
		if strings.HasPrefix(cs.CoreFile, "/") {
			cs.CoreDir = filepath.Dir(cs.CoreFile)
			if dirExists(o.sys(cs.CoreDir)) {
				cs.CoreDirExists = true
				cs.CoreDirWritable = writableDir(o.sys(cs.CoreDir))
			}
		}
	} else {
		cs.Errors = append(cs.Errors, "kern.corefile: "+errText(err))
	}
	if out, _, err := runTool(ctx, t, nil, "launchctl", "limit", "core"); err == nil {
		// "	core        0              unlimited"
		f := strings.Fields(out)
		if len(f) >= 3 && f[0] == "core" {
			cs.LaunchdSoft, cs.LaunchdHard = f[1], f[2]
		}
	} else {
		cs.Errors = append(cs.Errors, "launchctl limit core: "+errText(err))
	}

	u := &settings.Ulimit{Env: o.Settings}
	st := u.State(ctx)
	cs.UlimitToggleOn = st.On
	switch {
	case st.Error != "":
		cs.Errors = append(cs.Errors, "start-up files: "+st.Error)
	case len(st.Conflicts) > 0:
		// A line that raises the limit wins over ours (it comes later)
		// and over launchd's default.
		cs.ShellConflict = st.Conflicts[0]
		cs.ShellSource = st.Conflicts[0]
		cs.ShellLimit = "unlimited"
		if m := reLimitValue.FindStringSubmatch(st.Conflicts[0]); m != nil {
			cs.ShellLimit = m[1]
		}
	case st.On:
		cs.ShellLimit = "0"
		cs.ShellSource = "Forkwatch's ulimit -c 0 in the start-up files"
	case cs.LaunchdSoft != "":
		// Terminal is started by launchd and its shells inherit its limit.
		cs.ShellLimit = cs.LaunchdSoft
		cs.ShellSource = "no start-up file sets it: a new terminal inherits launchd's limit"
	}
	return cs
}

func errText(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// coreVerdicts decides, for one interpreter, whether a crash writes a core
// file when started from a new terminal and when started by launchd (an
// app, a LaunchAgent). The checks run in a fixed order and the first that
// says no is the one reason given.
func coreVerdicts(cs CoreSystem, in *Interpreter, goos string) (shell, launchd Verdict) {
	shellLimit := limitFact{value: cs.ShellLimit, source: cs.ShellSource}
	launchdLimit := limitFact{value: cs.LaunchdSoft, source: "launchctl limit core"}
	if goos != "darwin" && launchdLimit.value == "" {
		launchdLimit.missing = "there is no launchd on this system"
	}
	shell = coreVerdict(cs, in, goos, shellLimit)
	launchd = coreVerdict(cs, in, goos, launchdLimit)
	if shell.Verdict == Yes {
		shell.Fix = "forkwatch set ulimit-core on"
		if cs.ShellConflict != "" {
			shell.Fix = "delete the line " + cs.ShellConflict + " (then: forkwatch set ulimit-core on)"
		}
	}
	if launchd.Verdict == Yes {
		launchd.Fix = "forkwatch set coredump-off on (or, as root: launchctl limit core 0)"
	}
	return shell, launchd
}

type limitFact struct {
	value, source string
	missing       string
}

func coreVerdict(cs CoreSystem, in *Interpreter, goos string, limit limitFact) Verdict {
	if in.Skipped != "" {
		return Verdict{Verdict: Unknown, Reason: "not checked: " + in.Skipped}
	}
	var unknown []string
	// 1. kern.coredump=0 stops every core file, whatever the limit.
	switch cs.Coredump {
	case "0":
		return Verdict{Verdict: No, Reason: "kern.coredump=0: the kernel writes no core files"}
	case "":
		unknown = append(unknown, "kern.coredump could not be read")
	}
	// 2. The core limit the process starts with (core(5): files larger than
	// the limit are not created, so 0 means none).
	switch {
	case limit.value == "0":
		return Verdict{Verdict: No, Reason: "core limit 0 (" + limit.source + ")"}
	case limit.missing != "":
		unknown = append(unknown, limit.missing)
	case limit.value == "":
		unknown = append(unknown, "the core limit could not be read")
	}
	// 3. The folder of kern.corefile must exist and be writable by the
	// crashing process (core(5)).
	switch {
	case cs.CoreFile == "":
		unknown = append(unknown, "kern.corefile could not be read")
	case cs.CoreDir == "":
		unknown = append(unknown, "kern.corefile "+cs.CoreFile+" is relative: cores go to the process's working folder")
	case !cs.CoreDirExists:
		return Verdict{Verdict: No, Reason: "the core folder " + cs.CoreDir + " does not exist"}
	case !cs.CoreDirWritable:
		return Verdict{Verdict: No, Reason: "the core folder " + cs.CoreDir + " is not writable by you"}
	}
	// 4. The entitlement: a signal-triggered core dump needs
	// com.apple.security.get-task-allow on current macOS.
	if goos == "darwin" {
		switch in.GetTaskAllow {
		case No:
			why := "the binary lacks the com.apple.security.get-task-allow entitlement that a core dump needs"
			if in.HardenedRuntime == Yes {
				why = "hardened runtime without the com.apple.security.get-task-allow entitlement that a core dump needs"
			}
			return Verdict{Verdict: No, Reason: why}
		case Yes:
		default:
			unknown = append(unknown, "its signature could not be read")
		}
	}
	if len(unknown) > 0 {
		return Verdict{Verdict: Unknown, Reason: unknown[0]}
	}
	reason := "core limit " + limit.value + " (" + limit.source + "), kern.coredump=" + cs.Coredump + ", " + cs.CoreDir + " writable"
	if goos == "darwin" {
		reason += ", and it has get-task-allow"
	}
	return Verdict{Verdict: Yes, Reason: reason}
}

// homeShort writes a path under home as ~/...
func homeShort(home, p string) string {
	if home == "" {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "~/" + rel
	}
	return p
}

// fileLines reads a small regular file's lines; nil for anything else.
func fileLines(p string) []string {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 8<<20 {
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	return strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}
