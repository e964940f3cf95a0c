package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"howett.net/plist"
)

// ForkSafetyVar is the variable objc4 reads once, at process start.
const ForkSafetyVar = "OBJC_DISABLE_INITIALIZE_FORK_SAFETY"

// forkSafetyAgent is the LaunchAgent the fork-safety-off toggle writes
// (settings/forksafety.go); its modification time is when the toggle was
// turned on.
const forkSafetyAgent = "com.forkwatch.fork-safety-env.plist"

// ForkSafety is the fork-safety part of the report.
type ForkSafety struct {
	// LaunchdValue is `launchctl getenv OBJC_DISABLE_INITIALIZE_FORK_SAFETY`
	// ("" when unset): what apps started now get.
	LaunchdValue string `json:"launchd_value"`
	// LaunchdNow: do apps started from now on get =YES?
	LaunchdNow Verdict `json:"launchd_now"`
	// NextLogin: will it be set again at the next login?
	NextLogin Verdict `json:"next_login"`
	// Shell: do new terminals get it from a start-up file?
	Shell Verdict `json:"shell"`
	// ShellLines are the start-up lines that set it, each judged.
	ShellLines []ShellLine `json:"shell_lines,omitempty"`
	// SetSince is when it was set in launchd, from the LaunchAgent's
	// modification time; nil when unknown.
	SetSince *time.Time `json:"set_since,omitempty"`
	// Restart lists running apps and terminals that started before it was
	// set and so lack it. Inferred from start times: another process's
	// environment cannot be read.
	Restart []RunningApp `json:"restart"`
	// RestartNote says how Restart was inferred, or why it could not be.
	RestartNote string   `json:"restart_note"`
	Errors      []string `json:"errors,omitempty"`
}

// ShellLine is one start-up line that sets the variable.
type ShellLine struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Text    string `json:"text"`
	Value   string `json:"value"`
	Problem string `json:"problem,omitempty"`
}

// RunningApp is a running app or terminal that may need a restart.
type RunningApp struct {
	Name    string    `json:"name"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Command string    `json:"command"`
}

func checkForkSafety(ctx context.Context, o Options) ForkSafety {
	var fs ForkSafety
	darwin := o.GOOS == "darwin"

	// Now: what launchd hands to the apps it starts from now on.
	out, _, err := runTool(ctx, 5*time.Second, nil, "launchctl", "getenv", ForkSafetyVar)
	launchd := err == nil || isExit(err)
	fs.LaunchdValue = strings.TrimSpace(out)
	switch {
	case !launchd && !darwin:
		fs.LaunchdNow = Verdict{Verdict: Unknown, Reason: "no launchd on this system: nothing reads the variable here (no Objective-C runtime)"}
	case !launchd:
		fs.LaunchdNow = Verdict{Verdict: Unknown, Reason: "launchctl getenv failed: " + errText(err)}
		fs.Errors = append(fs.Errors, "launchctl getenv: "+errText(err))
	case fs.LaunchdValue == "YES":
		fs.LaunchdNow = Verdict{Verdict: Yes, Reason: "launchctl getenv says YES: apps started from now on get it"}
	case fs.LaunchdValue != "":
		fs.LaunchdNow = Verdict{Verdict: No, Reason: fmt.Sprintf("launchd has %s=%q, and the runtime honours only YES", ForkSafetyVar, fs.LaunchdValue),
			Fix: "forkwatch set fork-safety-off on"}
	default:
		fs.LaunchdNow = Verdict{Verdict: No, Reason: "not set in launchd: apps started now do not get it (the safe default)",
			Fix: "forkwatch set fork-safety-off on (a band-aid: the fix is to not fork without exec)"}
	}

	// Next login: our LaunchAgent, or another agent that sets it.
	agents := filepath.Join(o.Home, "Library", "LaunchAgents")
	ours := filepath.Join(agents, forkSafetyAgent)
	if args, ok := agentArgs(ours); ok {
		if strings.Join(args, " ") == "/bin/launchctl setenv "+ForkSafetyVar+" YES" {
			fs.NextLogin = Verdict{Verdict: Yes, Reason: "the LaunchAgent " + homeShort(o.Home, ours) + " sets it at every login"}
			if fi, err := os.Stat(ours); err == nil {
				t := fi.ModTime()
				fs.SetSince = &t
			}
		} else {
			fs.NextLogin = Verdict{Verdict: Unknown, Reason: homeShort(o.Home, ours) + " does not hold the command Forkwatch writes: " + strings.Join(args, " "),
				Fix: "forkwatch set fork-safety-off off, then on"}
		}
	} else if other := otherAgents(agents, forkSafetyAgent); len(other) > 0 {
		fs.NextLogin = Verdict{Verdict: Yes, Reason: "set by " + strings.Join(other, ", ") + " (not Forkwatch's)"}
	} else if darwin {
		fs.NextLogin = Verdict{Verdict: No, Reason: "no LaunchAgent sets it: it is gone after logout", Fix: "forkwatch set fork-safety-off on"}
	} else {
		fs.NextLogin = Verdict{Verdict: Unknown, Reason: "no LaunchAgents on this system"}
	}

	// Shell start-up files: terminals get it only from these.
	fs.ShellLines = shellLines(o)
	fs.Shell = Verdict{Verdict: No, Reason: "no start-up file exports it"}
	for _, l := range fs.ShellLines {
		ref := fmt.Sprintf("%s:%d", l.File, l.Line)
		if l.Problem != "" {
			fs.Shell = Verdict{Verdict: No, Reason: ref + ": " + l.Problem, Fix: "change " + ref + " to: export " + ForkSafetyVar + "=YES (or delete it)"}
			break
		}
		fs.Shell = Verdict{Verdict: Yes, Reason: ref + " exports it: processes started from a new terminal get it"}
	}

	// Who started before it was set.
	switch {
	case fs.LaunchdValue != "YES":
		fs.RestartNote = "not set in launchd, so no running app got it from there"
	case fs.SetSince == nil:
		fs.RestartNote = "set in launchd, but when is unknown (no Forkwatch LaunchAgent): cannot tell which apps started before"
	default:
		apps, err := runningApps(ctx)
		if err != nil {
			fs.RestartNote = "could not list processes: " + errText(err)
			break
		}
		for _, a := range apps {
			if a.Started.Before(fs.SetSince.Add(-time.Second)) {
				fs.Restart = append(fs.Restart, a)
			}
		}
		fs.RestartNote = "inferred from start times: these started before " + fs.SetSince.Format(time.RFC3339) +
			" (when the LaunchAgent was written) and so lack the variable; another process's environment cannot be read"
	}
	if fs.Restart == nil {
		fs.Restart = []RunningApp{}
	}
	return fs
}

// isExit reports whether err is a command that ran and exited non-zero
// (launchctl getenv of an unset variable exits 1).
func isExit(err error) bool {
	_, ok := err.(interface{ ExitCode() int })
	return ok
}

// agentArgs reads a LaunchAgent's ProgramArguments; ok is false when the
// file is missing or not a property list.
func agentArgs(p string) ([]string, bool) {
	lines := fileLines(p)
	if lines == nil {
		return nil, false
	}
	var job struct {
		ProgramArguments []string `plist:"ProgramArguments"`
	}
	if _, err := plist.Unmarshal([]byte(strings.Join(lines, "\n")), &job); err != nil {
		return nil, false
	}
	return job.ProgramArguments, true
}

// otherAgents lists LaunchAgents (not ours) whose text mentions the
// variable with YES.
func otherAgents(dir, skip string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Name() == skip || !strings.HasSuffix(e.Name(), ".plist") {
			continue
		}
		args, ok := agentArgs(filepath.Join(dir, e.Name()))
		if ok && strings.Contains(strings.Join(args, " "), ForkSafetyVar+" YES") {
			out = append(out, e.Name())
		}
	}
	return out
}

var (
	reShellAssign = regexp.MustCompile(`^(export\s+|declare\s+-x\s+|typeset\s+-x\s+)?` + ForkSafetyVar + `=(\S*)`)
	reFishSet     = regexp.MustCompile(`^set\s+(?:-[A-Za-z]+\s+)*` + ForkSafetyVar + `\s+(\S+)`)
	reCshSetenv   = regexp.MustCompile(`^setenv\s+` + ForkSafetyVar + `\s+(\S+)`)
)

// shellLines finds the start-up lines that set the variable, in the files
// zsh, bash and fish read (zsh(1) STARTUP/SHUTDOWN FILES, bash(1)
// INVOCATION), and judges each value: objc4 honours only the exact YES.
func shellLines(o Options) []ShellLine {
	zdot := o.Settings.ZDOTDIR
	if zdot == "" {
		zdot = o.Home
	}
	files := []string{
		filepath.Join(zdot, ".zshenv"), filepath.Join(zdot, ".zprofile"), filepath.Join(zdot, ".zshrc"), filepath.Join(zdot, ".zlogin"),
		filepath.Join(o.Home, ".bash_profile"), filepath.Join(o.Home, ".bash_login"), filepath.Join(o.Home, ".profile"), filepath.Join(o.Home, ".bashrc"),
		filepath.Join(o.Home, ".config", "fish", "config.fish"),
	}
	var out []ShellLine
	for _, f := range files {
		for i, raw := range fileLines(f) {
			line := strings.TrimSpace(raw)
			if line == "" || strings.HasPrefix(line, "#") || !strings.Contains(line, ForkSafetyVar) {
				continue
			}
			sl := ShellLine{File: homeShort(o.Home, f), Line: i + 1, Text: clip(line, 160)}
			exported := true
			if m := reShellAssign.FindStringSubmatch(line); m != nil {
				sl.Value = m[2]
				exported = m[1] != "" || strings.Contains(line, "export "+ForkSafetyVar)
			} else if m := reFishSet.FindStringSubmatch(line); m != nil {
				sl.Value = m[1]
				exported = strings.Contains(line, "-x") || strings.Contains(line, "--export")
			} else if m := reCshSetenv.FindStringSubmatch(line); m != nil {
				sl.Value = m[1]
			} else if strings.HasPrefix(line, "unset") || strings.Contains(line, "unsetenv") {
				sl.Problem = "unsets it"
			} else {
				continue // mentioned, not set (an echo, a test)
			}
			sl.Value = strings.TrimRight(strings.Trim(sl.Value, `'"`), ";")
			sl.Value = strings.Trim(sl.Value, `'"`)
			switch {
			case sl.Problem != "":
			case sl.Value != "YES":
				sl.Problem = fmt.Sprintf("value %q: the Objective-C runtime honours only the exact value YES (objc4 750-818: strcmp(value, \"YES\"))", sl.Value)
			case !exported:
				sl.Problem = "set but not exported: programs started from the shell do not see it"
			}
			out = append(out, sl)
		}
	}
	return out
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// knownApps are the apps and terminals whose children are the usual
// Python parents: matched on the executable path ps prints.
var knownApps = []struct{ name, match string }{
	{"Terminal", "/Terminal.app/Contents/MacOS/"},
	{"iTerm2", "/iTerm.app/Contents/MacOS/"},
	{"VS Code", "/Visual Studio Code.app/Contents/MacOS/"},
	{"Cursor", "/Cursor.app/Contents/MacOS/"},
	{"PyCharm", "/PyCharm"},
	{"WezTerm", "/WezTerm.app/Contents/MacOS/"},
	{"Alacritty", "/Alacritty.app/Contents/MacOS/"},
	{"kitty", "/kitty.app/Contents/MacOS/"},
	{"Ghostty", "/Ghostty.app/Contents/MacOS/"},
	{"Warp", "/Warp.app/Contents/MacOS/"},
	{"Hyper", "/Hyper.app/Contents/MacOS/"},
	{"Zed", "/Zed.app/Contents/MacOS/"},
	{"Xcode", "/Xcode.app/Contents/MacOS/Xcode"},
	{"Jupyter", "/jupyter-lab"},
}

// runningApps lists this user's running apps and terminals with their start
// times (`ps -x -o pid=,lstart=,comm=`, in the C locale so the date parses).
func runningApps(ctx context.Context) ([]RunningApp, error) {
	env := append(os.Environ(), "LC_ALL=C")
	out, _, err := runTool(ctx, 5*time.Second, env, "ps", "-x", "-o", "pid=,lstart=,comm=")
	if err != nil {
		return nil, err
	}
	return parsePS(out, time.Local), nil
}

// parsePS reads ps lines: pid, lstart (five fields: "Thu Nov 26 08:10:26
// 2026"), then the command, which may hold spaces. It keeps the earliest
// process of each known app.
func parsePS(out string, loc *time.Location) []RunningApp {
	byName := map[string]RunningApp{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 7 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		started, err := time.ParseInLocation("Mon Jan 2 15:04:05 2006", strings.Join(f[1:6], " "), loc)
		if err != nil {
			continue
		}
		// The command is the rest of the line, spaces kept.
		rest := line
		for i := 0; i < 6; i++ {
			rest = strings.TrimLeft(rest, " \t")
			if j := strings.IndexAny(rest, " \t"); j >= 0 {
				rest = rest[j:]
			}
		}
		cmd := strings.TrimSpace(rest)
		name := appName(cmd)
		if name == "" {
			continue
		}
		if prev, ok := byName[name]; !ok || started.Before(prev.Started) {
			byName[name] = RunningApp{Name: name, PID: pid, Started: started, Command: cmd}
		}
	}
	var apps []RunningApp
	for _, a := range byName {
		apps = append(apps, a)
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Started.Before(apps[j].Started) })
	return apps
}

func appName(cmd string) string {
	if strings.Contains(cmd, "Helper") || strings.Contains(cmd, ".app/Contents/Frameworks/") {
		return ""
	}
	for _, k := range knownApps {
		if strings.Contains(cmd, k.match) {
			return k.name
		}
	}
	switch filepath.Base(cmd) {
	case "tmux":
		return "tmux server"
	case "screen", "SCREEN":
		return "screen"
	}
	return ""
}
