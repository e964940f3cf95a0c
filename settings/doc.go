// Package settings turns the three fork-crash mitigations and the login item
// on and off on the real system, and reads their state back from it.
//
// Each toggle is reversible and leaves nothing behind: files are edited only
// inside a marked block (blockedit.go) and written atomically (atomic.go);
// commands (sysctl, launchctl, osascript) are looked up on PATH and run with
// timeouts (system.go), so tests run them as fakes against a temporary home.
package settings
