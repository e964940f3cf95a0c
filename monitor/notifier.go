package monitor

import "github.com/forkwatch/forkwatch/internal/dirwatch"

// The watcher's notifier is internal/dirwatch's, shared with the toggles'
// start-up files and the managed-preferences watcher. Two kinds of events:
// a file event names the file (inotify gives us that), a folder event names
// only the folder, which the watcher then rescans.
//
// Why two kinds: fsnotify's kqueue backend (macOS) opens a descriptor for
// every file in a watched folder (fsnotify README, "kqueue (macOS, all BSD
// systems)") and DiagnosticReports can hold thousands of reports, so on
// macOS the folders alone are watched with dirwatch's own small kqueue,
// which only says "this folder's entries changed" (and, as kqueue does,
// nothing when a file in it is written in place). Everywhere else fsnotify
// watches a folder with one inotify watch and names the file, unless
// Config.FolderOnly asks for macOS's semantics.
type (
	dirNotifier = dirwatch.Notifier
	dirEvent    = dirwatch.Event
)

func newPlatformNotifier(folderOnly bool) (dirNotifier, error) { return dirwatch.New(folderOnly) }
