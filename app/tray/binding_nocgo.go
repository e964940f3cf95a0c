//go:build darwin && !cgo

package tray

import "errors"

// Run cannot work without cgo on macOS: getlantern/systray drives Cocoa
// through cgo. This twin keeps the rest of the tree building and vetted with
// CGO_ENABLED=0.
func Run(clicks chan<- string, onReady func(UI), onExit func()) error {
	return errors.New("this forkwatch was built without cgo, and the macOS menu bar needs it: build with CGO_ENABLED=1 (Xcode Command Line Tools), or use `forkwatch watch` for the terminal mode")
}
