//go:build !darwin

package dirwatch

// newPlatform uses fsnotify (inotify on Linux): one watch per folder or
// file, with the name of the file that changed unless folderOnly.
func newPlatform(folderOnly bool) (Notifier, error) {
	return newFsnotify(folderOnly)
}
