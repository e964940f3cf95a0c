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

	"github.com/fsnotify/fsnotify"
)

// debounce is how long Watch waits after the last change before it reads
// the files: a profile install writes and renames several files.
const debounce = 300 * time.Millisecond

// Watch calls onChange after the domain's files change (a profile installed,
// updated or removed; `defaults write`), until ctx is done. It watches the
// folders that hold the three files; a folder that does not exist yet (no
// profile was ever installed, so no /Library/Managed Preferences) is
// watched through its nearest existing parent and picked up when it
// appears. onChange is called only when the files' bytes changed, on
// Watch's goroutine. Watch returns when ctx is done, or at once with an
// error when no watch can be set up.
func Watch(ctx context.Context, p Paths, log *slog.Logger, onChange func()) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch managed preferences: %w", err)
	}
	defer w.Close()
	dirs := []string{p.ManagedDir, filepath.Dir(p.UserPrefs)}
	if pu := p.PerUser(); pu != "" {
		dirs = append(dirs, filepath.Dir(pu))
	}
	watched := map[string]bool{}
	arm := func() error {
		var errs []error
		for _, d := range dirs {
			at := nearestExisting(d)
			if at == "" || watched[at] {
				continue
			}
			if err := w.Add(at); err != nil {
				errs = append(errs, fmt.Errorf("watch %s: %w", at, err))
				continue
			}
			watched[at] = true
		}
		return errors.Join(errs...)
	}
	if err := arm(); err != nil && len(watched) == 0 {
		return err
	} else if err != nil {
		log.Warn("managed preferences: watch", "err", err)
	}
	last := fingerprint(p)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				// A watched folder may be gone: let arm add it (or its
				// parent) again.
				if watched[ev.Name] {
					delete(watched, ev.Name)
					_ = w.Remove(ev.Name)
				}
			}
			if err := arm(); err != nil {
				log.Warn("managed preferences: watch", "err", err)
			}
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("managed preferences: watch", "err", err)
		case <-timer.C:
			if err := arm(); err != nil {
				log.Warn("managed preferences: watch", "err", err)
			}
			if fp := fingerprint(p); !bytes.Equal(fp, last) {
				last = fp
				onChange()
			}
		}
	}
}

// nearestExisting returns dir or its closest existing ancestor folder.
func nearestExisting(dir string) string {
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
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
