//go:build !darwin

package main

import (
	"os"
	"path/filepath"
)

// On Linux (the development platform) the defaults mirror macOS's layout
// under the home folder, so `make run` shows something without flags.
func defaultReportDirs() []string {
	return []string{filepath.Join(home(), "Library", "Logs", "DiagnosticReports")}
}

func supportDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "forkwatch")
	}
	return filepath.Join(home(), ".config", "forkwatch")
}

func logDir() string { return filepath.Join(supportDir(), "logs") }
