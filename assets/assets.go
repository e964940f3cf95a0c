// Package assets holds Forkwatch's icons, drawn by `go run ./build icons`
// (build/icons.go) and embedded in the binary.
//
// The tray icons are template images (black and alpha only), so macOS
// recolours them for light and dark menu bars; the @2x files are for Retina
// displays (18x18 pt). The alert variant shows while there are unseen crashes.
package assets

import _ "embed"

var (
	//go:embed tray.png
	TrayPNG []byte
	//go:embed tray@2x.png
	Tray2xPNG []byte
	//go:embed tray-alert.png
	TrayAlertPNG []byte
	//go:embed tray-alert@2x.png
	TrayAlert2xPNG []byte
	// IconPNG is the 512x512 app icon, also used for notifications.
	//go:embed icon.png
	IconPNG []byte
	// AboutHTML explains the fork-safety crash and its fixes; the menu's
	// "About the Fork-Safety Crash…" opens it.
	//go:embed about.html
	AboutHTML []byte
)
