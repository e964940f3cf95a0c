// Package tray is the menu-bar app: the Controller, in whose one loop
// (Run) watcher events, clicks from the menu and the results of slow work
// (password prompts, dialogs, pages) meet; the menu model (menu.go:
// BuildMenu, a pure function of MenuState, no systray); and the binding
// (binding.go, the only file importing getlantern/systray, with its
// cgo-less macOS twin binding_nocgo.go). It imports the notification and
// desktop rooms, never the commands: the app command builds a Controller
// from a ControllerConfig and hands it the watcher's events.
package tray
