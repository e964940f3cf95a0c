package managed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/forkwatch/forkwatch/internal/dirwatch"
)

// debounce is how long Watch waits after a change before it reads the
// files: a profile install writes and renames several files.
const debounce = 300 * time.Millisecond

// Watch calls onChange after the domain's files change (a profile installed,
// updated or removed; `defaults write`), until ctx is done. It watches the
// folders that hold the three files, and the files themselves (an in-place
// rewrite changes no folder entry); a folder that does not exist yet (no
// profile was ever installed, so no /Library/Managed Preferences) is
// watched through its nearest existing parent and picked up when it
// appears. onChange is called only when the files' bytes changed, on
// Watch's goroutine. Watch returns nil when ctx is done, or an error when
// no watch can be set up or the watch stops.
//
// The watch is internal/dirwatch's: on macOS one kqueue descriptor per
// folder and per watched file, where fsnotify's kqueue backend would open
// one for every entry of ~/Library/Preferences, hundreds of plists
// (fsnotify README, "kqueue (macOS, all BSD systems)").
func Watch(ctx context.Context, p Paths, log *slog.Logger, onChange func()) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dirs, files := watchTargets(p)
	last := fingerprint(p)
	err := dirwatch.Watch(ctx, dirs, files, debounce, func() {
		if fp := fingerprint(p); !bytes.Equal(fp, last) {
			last = fp
			onChange()
		}
	})
	if err != nil {
		log.Warn("managed preferences: watch", "err", err)
		return fmt.Errorf("watch managed preferences: %w", err)
	}
	return nil
}

// watchTargets lists the folders and files Watch follows. An empty
// folder path is never one of them: off macOS there is no real managed
// folder (RealDir and, without the stand-in, ManagedDir are ""), and an
// empty path would make the watch fall back to the current folder. With
// the stand-in in use the real folder is watched too, so that a profile
// installed there takes over at once.
func watchTargets(p Paths) (dirs, files []string) {
	seen := map[string]bool{}
	addDir := func(d string) {
		if d == "" || d == "." || seen[d] {
			return
		}
		seen[d] = true
		dirs = append(dirs, d)
	}
	addDir(p.ManagedDir)
	addDir(p.RealDir)
	if p.UserPrefs != "" {
		addDir(filepath.Dir(p.UserPrefs))
	}
	for _, l := range p.layers() {
		if l.path == "" {
			continue
		}
		files = append(files, l.path)
		addDir(filepath.Dir(l.path))
	}
	if p.StandIn && p.RealDir != "" {
		for _, f := range []string{deviceIn(p.RealDir), perUserIn(p.RealDir, p.User)} {
			if f != "" {
				files = append(files, f)
			}
		}
	}
	return dirs, files
}

// fingerprint is the bytes of the domain's files (each a few hundred
// bytes), so that a change of any value, and only a change, is noticed.
func fingerprint(p Paths) []byte {
	var b bytes.Buffer
	for _, l := range p.layers() {
		b.WriteString(l.path)
		data, err := os.ReadFile(l.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			b.WriteString("\x00missing")
		case err != nil:
			b.WriteString("\x00error " + err.Error())
		case len(data) > MaxFileSize:
			b.WriteString("\x00too large")
		default:
			b.WriteString("\x00")
			b.Write(data)
		}
		b.WriteString("\x00\x00")
	}
	return b.Bytes()
}
