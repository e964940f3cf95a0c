package tray

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/wording"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
)

// coreShelf is the core file folder as the menu shows it: listed (never
// opened) at every render, and emptied into the Trash on request.
type coreShelf struct {
	dir, name string      // the folder and file pattern of kern.corefile
	history   *history.DB // where removed core files are recorded (may be nil)
	log       *slog.Logger
	// note is said in the confirmation: on macOS, that a file moved to
	// the Trash by Forkwatch has no Put Back (desktop.TrashNote).
	note string
}

// list reads the folder; a folder that does not exist holds none.
func (s coreShelf) list() []report.CoreFile {
	cores, err := monitor.ListCores(s.dir, s.name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("list cores", "err", err)
	}
	return cores
}

// trash asks for confirmation naming the count and size, then moves the
// core files to the Trash. Each path is checked again just before, so
// nothing that turned into a symlink meanwhile is touched. moved says
// whether it got as far as moving (the list is read again then); a failure
// comes with the title of its notification.
func (s coreShelf) trash(ctx context.Context, desk desktop.Desktop, cores []report.CoreFile, now func() time.Time) (moved bool, title string, err error) {
	var total int64
	for _, cf := range cores {
		total += cf.Size
	}
	q := fmt.Sprintf("Move %d core %s (%s) in %s to the Trash?", len(cores), wording.Plural(len(cores), "file", "files"), wording.HumanBytes(total), s.dir)
	if s.note != "" {
		q += "\n\n" + s.note
	}
	ok, err := desk.Confirm(ctx, q, "Move to Trash")
	if err != nil {
		return false, "Could not ask before moving core files", err
	}
	if !ok {
		return false, "", nil
	}
	var paths []string
	for _, cf := range cores {
		if err := monitor.IsCoreFile(s.dir, s.name, cf.Path); err != nil {
			s.log.Warn("not moving", "path", cf.Path, "err", err)
			continue
		}
		paths = append(paths, cf.Path)
	}
	if len(paths) == 0 {
		return true, "", nil
	}
	if err := desk.Trash(ctx, paths); err != nil {
		return true, "Could not move the core files to the Trash", err
	}
	s.recordRemoved(paths, now())
	return true, "", nil
}

// recordRemoved notes in the history each core file that is gone.
func (s coreShelf) recordRemoved(paths []string, now time.Time) {
	if s.history == nil {
		return
	}
	for _, p := range paths {
		if _, serr := os.Lstat(p); errors.Is(serr, fs.ErrNotExist) {
			if herr := s.history.RecordCoreRemoved(p, now); herr != nil {
				s.log.Warn("history: record core removed", "err", herr)
			}
		}
	}
}

// listCores shows the core folder as it is now.
func (c *Controller) listCores() {
	if c.cores.dir == "" {
		return
	}
	c.state.Cores = c.cores.list()
}

// trashListed moves st's listed core files to the Trash after asking,
// then lists the folder again.
func (s coreShelf) trashListed(ctx context.Context, o offLoop, st *MenuState, desk desktop.Desktop, now func() time.Time) {
	cores := append([]report.CoreFile(nil), st.Cores...)
	if len(cores) == 0 {
		return
	}
	o.later(ctx, func() func() {
		moved, title, err := s.trash(ctx, desk, cores, now)
		if err != nil {
			o.fail(title, err)
		}
		if !moved {
			return nil
		}
		return func() {
			if s.dir != "" {
				st.Cores = s.list()
			}
		}
	})
}
