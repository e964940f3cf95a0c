//go:build darwin

package main

import "path/filepath"

// defaultReportDirs are where ReportCrash writes: the user's folder and the
// system one (Apple, "Acquiring crash reports and diagnostic logs").
func defaultReportDirs() []string {
	return []string{
		filepath.Join(home(), "Library", "Logs", "DiagnosticReports"),
		"/Library/Logs/DiagnosticReports",
	}
}

// supportDir holds the state file.
func supportDir() string {
	return filepath.Join(home(), "Library", "Application Support", "Forkwatch")
}

// logDir holds the app's log when it runs from the menu bar.
func logDir() string { return filepath.Join(home(), "Library", "Logs", "Forkwatch") }
