//go:build darwin

package appinfo

import "path/filepath"

// DefaultReportDirs are where ReportCrash writes: the user's folder and the
// system one (Apple, "Acquiring crash reports and diagnostic logs").
func DefaultReportDirs() []string {
	return []string{
		filepath.Join(Home(), "Library", "Logs", "DiagnosticReports"),
		"/Library/Logs/DiagnosticReports",
	}
}

// SupportDir holds the state file.
func SupportDir() string {
	return filepath.Join(Home(), "Library", "Application Support", "Forkwatch")
}

// LogDir holds the app's log when it runs from the menu bar.
func LogDir() string { return filepath.Join(Home(), "Library", "Logs", "Forkwatch") }
