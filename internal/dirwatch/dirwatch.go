// Package dirwatch tells its caller that a folder's entries changed, or
// that a watched file was written, with the semantics macOS gives and the
// cost macOS allows.
//
// Why a package of its own: the crash watcher (monitor), the toggles'
// start-up files (settings) and the managed-preferences watcher
// (settings/managed) all need the same thing, and on macOS all three must
// avoid fsnotify's kqueue backend, which opens one descriptor for every
// entry of a watched folder (fsnotify README, "kqueue notes"; hundreds in
// ~/Library/Preferences, thousands in DiagnosticReports).
//
// Two kinds of watch:
//   - Add(dir) watches a folder. On macOS that is one descriptor per folder
//     with EVFILT_VNODE/NOTE_WRITE, which kqueue raises on a directory only
//     when an entry is added, removed or renamed: an in-place write to a
//     file in it (an append to ~/.zshrc) is NOT an event (kqueue(2);
//     fsnotify README, "kqueue notes": "a write to a file in a watched
//     directory will not send an event"). The event names only the folder;
//     the caller rescans it.
//   - AddFile(path) watches one file itself (a vnode watch on the file on
//     macOS, an inotify watch on the file on Linux), so that its in-place
//     edits are seen on both systems.
//
// On Linux New(true) gives the same folder semantics as macOS through
// fsnotify/inotify (in-place writes dropped, the folder named instead of
// the file), so that tests here see what a Mac would see.
package dirwatch

import "errors"

// Notifier watches folders and files.
type Notifier interface {
	// Add watches a folder's entries.
	Add(dir string) error
	// AddFile watches a file itself: writes, attribute changes, its removal
	// or replacement (after which the caller must AddFile it again: the
	// watch follows the old file).
	AddFile(path string) error
	// Remove stops watching a folder or file.
	Remove(path string) error
	Events() <-chan Event
	Errors() <-chan error
	Close() error
}

// Event is one change.
type Event struct {
	Path string
	// Folder: Path is a folder whose entries changed: rescan it. Set for
	// every folder event of a folder-only notifier.
	Folder bool
	// File: Path is a file watched with AddFile, and it changed.
	File   bool
	Remove bool // Path was removed or renamed away
	Create bool // Path was created or moved in (a whole file, often)
}

// ErrOverflow means events were lost: rescan everything.
var ErrOverflow = errors.New("event queue overflowed")

// New returns the notifier of this system. On macOS every folder watch is
// folder-only whatever folderOnly says (that is all kqueue gives on a
// folder); elsewhere folderOnly makes fsnotify behave the same way, and
// without it events name the file that changed.
func New(folderOnly bool) (Notifier, error) {
	return newPlatform(folderOnly)
}
