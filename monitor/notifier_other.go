//go:build !darwin

package monitor

// newPlatformNotifier uses fsnotify (inotify on Linux): one watch per folder,
// with the name of the file that changed.
func newPlatformNotifier(folderOnly bool) (dirNotifier, error) {
	return newFsnotify(folderOnly)
}
