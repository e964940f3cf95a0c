package appinfo

import (
	"os"
	"path/filepath"
	"strings"
)

// Home is the user's home folder from $HOME, so tests point it at a
// temporary folder.
func Home() string {
	if h := os.Getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// HistoryDBPath is where the watcher records the history.
func HistoryDBPath() string { return filepath.Join(SupportDir(), "history.db") }

// TildePath shortens a path under the home folder to ~/….
func TildePath(p string) string {
	h := Home()
	if h != "" && h != "/" && strings.HasPrefix(p, h+"/") {
		return "~" + p[len(h):]
	}
	return p
}
