//go:build !darwin

package desktop

import "fmt"

// platformTrash: Foundation is macOS's; the Linux desktop trashes with gio.
func platformTrash() trashOne {
	return func(path string) (string, error) {
		return "", fmt.Errorf("move %s to the Trash: Foundation %w", path, ErrNoTool)
	}
}
