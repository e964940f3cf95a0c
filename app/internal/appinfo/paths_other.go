//go:build !darwin

package appinfo

import (
	"os"
	"path/filepath"
)

// On Linux (the development platform) the defaults mirror macOS's layout
// under the home folder, so `make run` shows something without flags.
//
// DefaultReportDirs is where the watcher looks for crash reports.
func DefaultReportDirs() []string {
	return []string{filepath.Join(Home(), "Library", "Logs", "DiagnosticReports")}
}

// SupportDir holds the state file, the history and the tracer's spool.
func SupportDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "forkwatch")
	}
	return filepath.Join(Home(), ".config", "forkwatch")
}

// LogDir holds the app's log when it runs from the menu bar.
func LogDir() string { return filepath.Join(SupportDir(), "logs") }
