package monitor

import (
	"github.com/forkwatch/forkwatch/internal/regular"

	"github.com/forkwatch/forkwatch/monitor/report"

	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/forkwatch/forkwatch/internal/atomicfile"
)

// Store is the watcher's memory between runs: which crashes were seen,
// which files hold them, which core files were announced. The JSON State
// below and the history database both keep it. Methods are called from the
// watch loop only.
type Store interface {
	// FirstRun is true when nothing was remembered: the first run's sweep
	// lists history without notifying it.
	FirstRun() bool
	Seen(id string) bool
	PathID(path string) (string, bool)
	// KnownPaths returns a copy, for a sweep running in another goroutine.
	KnownPaths() map[string]bool
	MarkSeen(r *report.Report, now time.Time)
	MarkPath(path, id string)
	ForgetPath(path string)
	CoreAnnounced(path string) (int64, bool)
	MarkCore(path string, size int64)
	// Recent returns the last crashes seen, oldest first.
	Recent() []report.Report
	// Save makes what was marked durable (the watcher calls it debounced).
	Save() error
}

var _ Store = (*State)(nil)

// FirstRun reports that no state file was found.
func (s *State) FirstRun() bool { return !s.Existed }

// State is what the watcher remembers between runs, so that a restart does
// not announce old crashes again. It is owned by one goroutine (the watch
// loop); it is not safe for concurrent use.
type State struct {
	path string
	// Existed is false when no state file was found: the first run, whose
	// sweep lists history without notifying it.
	Existed bool
	data    stateFile
	dirty   bool
}

type stateFile struct {
	Version int `json:"version"`
	// Seen maps a crash ID to when it was first seen (Unix seconds).
	Seen map[string]int64 `json:"seen"`
	// Paths maps a report path to its crash ID, so a sweep need not re-read
	// files it already knows.
	Paths map[string]string `json:"paths"`
	// Cores maps a core file path to the size last announced as complete.
	Cores map[string]int64 `json:"cores"`
	// Recent keeps the last crashes for the menu after a restart.
	Recent []report.Report `json:"recent"`
}

// Limits that keep the state file small however long the app runs.
const (
	maxSeen   = 20000
	maxRecent = 50
)

// LoadState reads the state file at path. A missing file gives an empty
// state (Existed false); a corrupt one is set aside as path.corrupt-TIME and
// also gives an empty state, with an error saying so, so that the caller can
// log it and carry on.
func LoadState(path string) (*State, error) {
	s := &State{path: path}
	s.reset()
	data, err := regular.Read(path, 64<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
		_ = os.Rename(path, aside)
		if err == nil {
			err = fmt.Errorf("version %d", f.Version)
		}
		// Existed stays true: a corrupt file is not a first run, and
		// treating it as one would only hide crashes, never repeat them.
		s.Existed = true
		return s, fmt.Errorf("state file %s unreadable (%v); moved to %s and starting afresh", path, err, aside)
	}
	s.Existed = true
	s.data = f
	if s.data.Seen == nil {
		s.data.Seen = map[string]int64{}
	}
	if s.data.Paths == nil {
		s.data.Paths = map[string]string{}
	}
	if s.data.Cores == nil {
		s.data.Cores = map[string]int64{}
	}
	return s, nil
}

func (s *State) reset() {
	s.data = stateFile{Version: 1, Seen: map[string]int64{}, Paths: map[string]string{}, Cores: map[string]int64{}}
}

// Seen reports whether the crash with this ID was seen before.
func (s *State) Seen(id string) bool { _, ok := s.data.Seen[id]; return ok }

// PathID returns the crash ID last read from path, if any.
func (s *State) PathID(path string) (string, bool) { id, ok := s.data.Paths[path]; return id, ok }

// BadPaths lists the bad files remembered (badfile.go), path to BadID.
func (s *State) BadPaths() map[string]string {
	m := map[string]string{}
	for p, id := range s.data.Paths {
		if IsBadID(id) {
			m[p] = id
		}
	}
	return m
}

// KnownPaths returns a copy of the path set, for a sweep running elsewhere.
func (s *State) KnownPaths() map[string]bool {
	m := make(map[string]bool, len(s.data.Paths))
	for p := range s.data.Paths {
		m[p] = true
	}
	return m
}

// KnownIDs returns a copy of the crash IDs seen, for a sweep running
// elsewhere (it skips a report whose ID is known without parsing it).
func (s *State) KnownIDs() map[string]bool {
	m := make(map[string]bool, len(s.data.Seen))
	for id := range s.data.Seen {
		m[id] = true
	}
	return m
}

// MarkSeen records a crash and the file it was read from.
func (s *State) MarkSeen(r *report.Report, now time.Time) {
	if _, ok := s.data.Seen[r.ID]; !ok {
		s.data.Seen[r.ID] = now.Unix()
		s.data.Recent = append(s.data.Recent, *r)
		if len(s.data.Recent) > maxRecent {
			s.data.Recent = s.data.Recent[len(s.data.Recent)-maxRecent:]
		}
	}
	if r.Path != "" {
		s.data.Paths[r.Path] = r.ID
	}
	s.dirty = true
}

// MarkPath records that path holds an already seen crash.
func (s *State) MarkPath(path, id string) {
	if s.data.Paths[path] != id {
		s.data.Paths[path] = id
		s.dirty = true
	}
}

// ForgetPath drops a path that no longer exists.
func (s *State) ForgetPath(path string) {
	if _, ok := s.data.Paths[path]; ok {
		delete(s.data.Paths, path)
		s.dirty = true
	}
	if _, ok := s.data.Cores[path]; ok {
		delete(s.data.Cores, path)
		s.dirty = true
	}
}

// CoreAnnounced returns the size at which the core file was announced complete.
func (s *State) CoreAnnounced(path string) (int64, bool) {
	n, ok := s.data.Cores[path]
	return n, ok
}

// MarkCore records a core file announced complete at size.
func (s *State) MarkCore(path string, size int64) {
	s.data.Cores[path] = size
	s.dirty = true
}

// Recent returns the last crashes seen, oldest first.
func (s *State) Recent() []report.Report { return append([]report.Report(nil), s.data.Recent...) }

// Dirty reports whether there is something to save.
func (s *State) Dirty() bool { return s.dirty }

// Save writes the state atomically, trimming the oldest entries beyond the
// limits. With no path (tests, --state "") it does nothing.
func (s *State) Save() error {
	if s.path == "" || !s.dirty {
		return nil
	}
	if len(s.data.Seen) > maxSeen {
		type kv struct {
			id string
			t  int64
		}
		all := make([]kv, 0, len(s.data.Seen))
		for id, t := range s.data.Seen {
			all = append(all, kv{id, t})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].t > all[j].t })
		keep := map[string]int64{}
		for _, e := range all[:maxSeen] {
			keep[e.id] = e.t
		}
		s.data.Seen = keep
	}
	data, err := json.Marshal(&s.data)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("save state %s: %w", s.path, err)
	}
	if err := atomicfile.WriteAtomic(s.path, data, 0o600); err != nil {
		return fmt.Errorf("save state %s: %w", s.path, err)
	}
	s.dirty = false
	return nil
}
