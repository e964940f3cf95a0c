package settings

import (
	"context"
	"path/filepath"
	"time"

	"github.com/forkwatch/forkwatch/internal/dirwatch"
)

// WatchPaths lists what the toggles read, for a watcher that keeps the
// menu's states current: folders, whose entries changing (a file created,
// removed, replaced by an atomic save) means a re-read, and files, whose
// in-place edits do too. The files must be watched as files: on macOS a
// folder's kqueue watch does not fire when a file in it is written in
// place (an `echo ... >> ~/.zshrc`), only when its entries change
// (kqueue(2), EVFILT_VNODE; see internal/dirwatch).
func WatchPaths(env Env) (dirs, files []string) {
	u := &Ulimit{Env: env}
	for _, sf := range u.readOrder() {
		files = append(files, sf.path)
	}
	agents := filepath.Join(env.Home, "Library", "LaunchAgents")
	autostart := filepath.Join(env.Home, ".config", "autostart")
	files = append(files,
		(&ForkSafety{Env: env}).agentPath(),
		(&Login{Env: env}).agentPath(),
		(&Login{Env: env}).autostartPath(),
	)
	dirs = []string{env.Home, agents, autostart, filepath.Join(env.Home, ".config", "fish")}
	if env.ZDOTDIR != "" {
		dirs = append(dirs, env.ZDOTDIR)
	}
	if env.GOOS == "darwin" {
		// The LaunchDaemon that keeps kern.coredump=0 at boot.
		d := (&Coredump{}).daemonPath()
		files = append(files, d)
		dirs = append(dirs, filepath.Dir(d))
	}
	return dirs, files
}

// Watch calls onChange (on its own goroutine, at most once per settle
// interval) when a file a toggle reads may have changed: a start-up file
// edited in place or replaced, a LaunchAgent written or removed. Folders
// are watched for their entries and the files themselves for their edits,
// one descriptor each on macOS (dirwatch.Watch). It returns nil when ctx
// is done, or an error when no watch can be made.
func Watch(ctx context.Context, env Env, settle time.Duration, onChange func()) error {
	dirs, files := WatchPaths(env)
	return dirwatch.Watch(ctx, dirs, files, settle, onChange)
}
