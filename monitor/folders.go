package monitor

import (
	"context"
	"time"

	"github.com/forkwatch/forkwatch/internal/dirwatch"
)

// WatchFolders calls onChange (from its own goroutine, at most once per
// settle interval) when an entry in one of dirs changes. It watches folders
// only, as kqueue does on macOS: an in-place edit of a file in them (an
// append to ~/.zshrc) is not seen. For the toggles' start-up files use
// settings.Watch, which also watches the files themselves
// (dirwatch.Watch). A folder that does not exist yet is watched through
// its nearest existing parent and picked up when it appears; one that is
// removed or replaced is watched again when it is back. It returns when
// ctx is done.
func WatchFolders(ctx context.Context, dirs []string, settle time.Duration, onChange func()) error {
	return dirwatch.Watch(ctx, dirs, nil, settle, onChange)
}
