package monitor

import (
	"github.com/forkwatch/forkwatch/internal/dirwatch"

	"github.com/forkwatch/forkwatch/internal/regular"

	"github.com/forkwatch/forkwatch/monitor/report"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Event kinds.
const (
	KindCrash = "crash"
	KindCore  = "core"
	KindError = "error"
	// KindWaiting says, once per file, that a report does not parse whole
	// yet and the watcher waits for it to finish (Note says how long), so
	// that a newcomer's excerpt is not waited on in silence.
	KindWaiting = "waiting"
)

// Event is one thing the watcher saw. History marks what the first run's
// sweep found already there: listed, not announced.
type Event struct {
	Kind    string
	Report  *report.Report   // KindCrash
	Core    *report.CoreFile // KindCore, or the crash's core file when known
	Path    string           // KindError, KindWaiting
	Err     string           // KindError
	Risk    *RiskyFork       // KindRiskyFork
	Note    string           // KindWaiting: what the watcher waits for
	History bool
}

// MarshalJSON gives the `watch --json` line: the inspect fields of a crash,
// the fields of a core file, or path and error, each with "kind".
func (e Event) MarshalJSON() ([]byte, error) { return json.Marshal(e.JSONValue()) }

// JSONValue is what MarshalJSON marshals. A line writer hands it to a
// json.Encoder, which writes json.Marshal's output and a newline from its
// own pooled buffer: neither the copy json.Marshal returns nor the second
// pass it makes over a Marshaler's output (an Event's line is written on
// the detection path).
func (e Event) JSONValue() any {
	type crash struct {
		Kind string `json:"kind"`
		*report.Report
		History bool             `json:"history,omitempty"`
		Core    *report.CoreFile `json:"core,omitempty"`
	}
	type core struct {
		Kind string `json:"kind"`
		*report.CoreFile
		History bool `json:"history,omitempty"`
	}
	type failure struct {
		Kind    string `json:"kind"`
		Path    string `json:"path,omitempty"`
		Error   string `json:"error"`
		Process string `json:"process,omitempty"`
	}
	type waiting struct {
		Kind string `json:"kind"`
		Path string `json:"path"`
		Note string `json:"note"`
	}
	switch e.Kind {
	case KindWaiting:
		return waiting{e.Kind, e.Path, e.Note}
	case KindCrash:
		return crash{e.Kind, e.Report, e.History, e.Core}
	case KindCore:
		return core{e.Kind, e.Core, e.History}
	case KindRiskyFork:
		return struct {
			Kind string `json:"kind"`
			*RiskyFork
		}{e.Kind, e.Risk}
	default:
		f := failure{Kind: KindError, Path: e.Path, Error: e.Err}
		if e.Report != nil {
			f.Process = e.Report.Process
		}
		return f
	}
}

// Config says what to watch. Zero durations take the defaults below.
type Config struct {
	ReportDirs []string // each is watched with its Retired subfolder
	CoreDir    string   // "" watches no core files
	CoreName   string   // file-name part of kern.corefile; default "core.%P"
	State      Store
	// Enrich runs on the detection path for every new crash, before it is
	// emitted and recorded (attribution, fork-tracer records, probe marks).
	Enrich []func(*report.Report)
	// Prefetch is called, on the watcher's goroutine, with the parent pid
	// a new report's start names (report.PeekParent; 0 for none), before
	// the report is parsed. An Enrich step that reads the parent's process
	// entry returns that read (Attributor.StartPrefetch), or nil; the
	// watcher runs the reads at once, on its own goroutine, and then
	// parses: the parent is read as soon as its pid is known (a pool's
	// parent can exit right after its child's crash), not after the
	// parse. A hint only: Enrich gets the parsed report as before.
	Prefetch []func(parentPID int) (run func())
	// EnrichCore does the same for a core file when it first appears (the
	// dying process may still be in the process table).
	EnrichCore []func(*report.CoreFile)
	// QuietAfter is how long an incomplete report may stay unchanged before
	// it is reported as unreadable.
	QuietAfter time.Duration
	// CoreSettle is how long a core file must stop growing to be complete.
	CoreSettle time.Duration
	// FolderOnly makes the Linux notifier behave like the macOS one (folder
	// events, rescans), so that path is tested here.
	FolderOnly bool
	// NewNotifier makes the watcher's notifier; nil is the platform's
	// (internal/dirwatch). Tests wrap it to act between two of its calls.
	NewNotifier func(folderOnly bool) (dirwatch.Notifier, error)
	Log         *slog.Logger
}

const (
	defaultQuietAfter = 30 * time.Second
	defaultCoreSettle = 10 * time.Second
	firstRetry        = 25 * time.Millisecond
	maxRetry          = 500 * time.Millisecond
	coreCheckEvery    = time.Second
	saveDelay         = time.Second
	maxPIDs           = 4096
)

// Watcher watches crash-report and core folders. Run owns all its state.
type Watcher struct {
	cfg       Config
	log       *slog.Logger
	n         dirNotifier
	emit      func(Event)
	coreRE    *regexp.Regexp
	targets   []string
	isCore    map[string]bool
	watched   map[string]bool
	ancestor  map[string]bool
	said      map[string]string // folder -> the problem already reported
	files     map[string]*fileState
	cores     map[string]*coreState
	pids      map[int]string // crash pid -> process, to name core files
	pidOrder  []int
	coreByPID map[int]*coreState
	rescan    map[string]bool // folders to rescan at the next tick
	saveAt    time.Time
	timer     *time.Timer
}

type fileSig struct {
	size  int64
	mtime time.Time
	mode  fs.FileMode
}

type fileState struct {
	sig        fileSig
	done       bool // handled this version of the file
	pending    bool
	lastChange time.Time
	nextTry    time.Time
	backoff    time.Duration
	said       bool
	history    bool
	// settled: this version of the file will not grow (it was renamed in
	// after its last write, or was last written QuietAfter ago), so an
	// incomplete parse is final at once.
	settled bool
	// waitSaid: the KindWaiting event for this version was emitted.
	waitSaid bool
}

type coreState struct {
	path       string
	pid        int
	size       int64
	lastChange time.Time
	nextCheck  time.Time
	complete   bool
	history    bool
	enriched   *report.CoreFile // what EnrichCore added when the file appeared
}

type sweepItem struct {
	path    string
	report  *report.Report
	err     error
	known   bool     // skipped by its ID, which the store knows: report holds only ID and Path
	done    bool     // the sweep is over: missing lists the known paths it did not find
	missing []string // (done) known at its start, not found
	swept   int      // (done) how many reports it passed on
	listed  int      // (done) how many known ones it found and skipped
}

// NewWatcher checks the configuration; Run starts watching.
func NewWatcher(cfg Config) (*Watcher, error) {
	if cfg.State == nil {
		st, _ := LoadState("")
		cfg.State = st
	}
	if cfg.QuietAfter <= 0 {
		cfg.QuietAfter = defaultQuietAfter
	}
	if cfg.CoreSettle <= 0 {
		cfg.CoreSettle = defaultCoreSettle
	}
	if cfg.CoreName == "" {
		cfg.CoreName = "core.%P"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{
		cfg: cfg, log: cfg.Log, coreRE: coreNameMatcher(cfg.CoreName),
		isCore: map[string]bool{}, watched: map[string]bool{}, ancestor: map[string]bool{},
		said: map[string]string{}, files: map[string]*fileState{}, cores: map[string]*coreState{},
		pids: map[int]string{}, coreByPID: map[int]*coreState{}, rescan: map[string]bool{},
	}
	for _, d := range cfg.ReportDirs {
		d = filepath.Clean(d)
		w.targets = append(w.targets, d, filepath.Join(d, "Retired"))
	}
	if cfg.CoreDir != "" {
		d := filepath.Clean(cfg.CoreDir)
		w.targets = append(w.targets, d)
		w.isCore[d] = true
	}
	if len(w.targets) == 0 {
		return nil, errors.New("nothing to watch: no report or core folder")
	}
	return w, nil
}

// Run watches until ctx is done, calling emit for each event from this
// goroutine. Watches are in place before the history sweep starts; the
// sweep reads files in a second goroutine. The state is saved on return.
func (w *Watcher) Run(ctx context.Context, emit func(Event)) error {
	newN := w.cfg.NewNotifier
	if newN == nil {
		newN = newPlatformNotifier
	}
	n, err := newN(w.cfg.FolderOnly)
	if err != nil {
		return fmt.Errorf("start watching: %w", err)
	}
	defer n.Close()
	w.n, w.emit = n, emit
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()

	w.ensureWatches(false)
	w.log.Info("watching", "folders", w.targets)

	sweep := make(chan sweepItem, 64)
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	// A store that can list the IDs it knows lets the sweep skip a report
	// moved to a new path (Retired/) without parsing it.
	var knownID func(string) bool
	if k, ok := w.cfg.State.(interface{ KnownIDs() map[string]bool }); ok {
		ids := k.KnownIDs()
		knownID = func(id string) bool { return ids[id] }
	}
	var bad map[string]string
	if b, ok := w.cfg.State.(badPaths); ok {
		bad = b.BadPaths()
	}
	go w.sweep(sweepCtx, SweepOptions{Skip: w.cfg.State.KnownPaths(), Bad: bad, KnownID: knownID}, sweep)
	// Core folders are small: list them here.
	for _, t := range w.targets {
		if w.isCore[t] && w.watched[t] {
			w.rescanDir(t, w.cfg.State.FirstRun())
		}
	}

	defer func() {
		if err := w.cfg.State.Save(); err != nil {
			w.log.Error("save state", "err", err)
		}
	}()
	for {
		w.arm()
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-n.Events():
			if !ok {
				return errors.New("watcher stopped")
			}
			w.handle(ev)
		case err := <-n.Errors():
			w.log.Warn("watch error; rescanning", "err", err)
			for _, t := range w.targets {
				if w.watched[t] {
					w.rescan[t] = true
				}
			}
		case it := <-sweep:
			if it.done {
				w.finishSweep(it.missing, it.swept, it.listed)
				sweep = nil
				continue
			}
			if _, handled := w.files[it.path]; handled {
				continue
			}
			fi, err := os.Lstat(it.path)
			if err != nil {
				continue
			}
			if !fi.Mode().IsRegular() {
				w.checkReport(it.path) // refused, said once (badfile.go)
				continue
			}
			now := time.Now()
			fs := &fileState{sig: sigOf(fi), lastChange: now, history: w.cfg.State.FirstRun(), settled: settledInfo(fi, now, w.cfg.QuietAfter)}
			w.files[it.path] = fs
			if it.known && !w.cfg.State.Seen(it.report.ID) {
				// Forgotten since the sweep began: read it after all.
				it.report, it.err = report.ReadFile(it.path)
			}
			w.result(it.path, fs, it.report, it.err)
		case <-w.timer.C:
			w.tick()
		}
	}
}

// sweep reads the reports already in the folders, skipping the paths the
// state knows. It runs beside the loop; the loop decides what is new.
func (w *Watcher) sweep(ctx context.Context, opt SweepOptions, out chan<- sweepItem) {
	var dirs []string
	for _, t := range w.targets {
		if !w.isCore[t] {
			dirs = append(dirs, t)
		}
	}
	swept := 0
	missing := SweepWith(ctx, dirs, opt, func(r SweepResult) {
		swept++
		select {
		case out <- sweepItem{path: r.Path, report: r.Report, err: r.Err, known: r.Known}:
		case <-ctx.Done():
		}
	})
	if ctx.Err() != nil {
		return
	}
	select {
	case out <- sweepItem{done: true, missing: missing, swept: swept, listed: len(opt.Skip) - len(missing)}:
	case <-ctx.Done():
	}
}

// finishSweep forgets state for reports that are gone: the paths known
// when the sweep began that it did not find, and that are not there now
// either. (A path recorded since was found by the sweep or seen appear.)
func (w *Watcher) finishSweep(missing []string, swept, known int) {
	for _, p := range missing {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			w.cfg.State.ForgetPath(p)
		}
	}
	w.scheduleSave()
	w.log.Info("history sweep done", "reports", swept+known, "read", swept, "known", known, "gone", len(missing))
}

func (w *Watcher) handle(ev dirEvent) {
	if (ev.Remove || ev.Create) && (w.watched[ev.Path] || w.ancestor[ev.Path]) {
		// The watched folder itself was removed or renamed, or a new one
		// was created or moved in at its path (a folder renamed over it:
		// inotify then reports the move in the parent and nothing on the
		// old folder's watch). The watch follows the old folder (a kqueue
		// descriptor, an inotify watch on the old inode), so a folder made
		// again at the path (rm -rf X && mkdir X) would never be seen:
		// drop the watch, and ensureWatches adds the new folder (and
		// rescans it) if it already exists, or watches its nearest
		// existing parent until it does.
		_ = w.n.Remove(ev.Path)
		w.watched[ev.Path] = false
		delete(w.ancestor, ev.Path)
		w.log.Info("folder removed or renamed; watching for it again", "path", ev.Path)
		w.ensureWatches(true)
		return
	}
	if ev.Folder {
		if w.watched[ev.Path] {
			w.rescan[ev.Path] = true
		}
		// A folder event can mean a target appeared, or vanished.
		w.ensureWatches(true)
		return
	}
	dir := filepath.Dir(ev.Path)
	if w.isTarget(ev.Path) || w.ancestor[dir] || (ev.Remove && w.watched[ev.Path]) {
		w.ensureWatches(true)
	}
	if !w.watched[dir] {
		return
	}
	if w.isCore[dir] {
		w.checkCore(ev.Path, false)
		return
	}
	fs := w.files[ev.Path]
	if fs != nil && fs.pending && !ev.Create && !ev.Remove {
		// More data in a file being written: let the writes coalesce.
		fs.nextTry = time.Now().Add(firstRetry)
		return
	}
	w.checkReport(ev.Path)
}

func (w *Watcher) isTarget(p string) bool {
	for _, t := range w.targets {
		if t == p {
			return true
		}
	}
	return false
}

// ensureWatches makes the notifier watch every target folder that exists,
// and the nearest existing ancestor of each that does not, so that a folder
// created (or deleted and created again) later is picked up. Problems with
// a folder are reported once until they change.
//
// It repeats until no new ancestor watch is added: a level made between
// the look at a target and the watch on its parent raises no event (the
// watch came after it), so the targets are looked at again once the
// parent is watched. Each round watches a deeper folder, so the path's
// depth bounds the rounds.
func (w *Watcher) ensureWatches(scanNew bool) {
	for range 256 {
		if !w.ensureWatchesOnce(scanNew) {
			return
		}
	}
}

// ensureWatchesOnce is one round of ensureWatches; it reports whether it
// added a watch on an ancestor folder.
func (w *Watcher) ensureWatchesOnce(scanNew bool) (addedAncestor bool) {
	need := map[string]bool{}
	for _, t := range w.targets {
		fi, err := os.Stat(t)
		exists := err == nil && fi.IsDir()
		if exists && !w.watched[t] {
			if err := w.n.Add(t); err != nil {
				w.sayFolder(t, fmt.Sprintf("cannot watch %s: %v", t, err))
			} else {
				w.watched[t] = true
				delete(w.said, t)
				w.log.Info("watching folder", "path", t)
				if scanNew {
					w.rescan[t] = true
				}
			}
		}
		if !exists && w.watched[t] {
			_ = w.n.Remove(t)
			w.watched[t] = false
			w.log.Info("folder gone; waiting for it", "path", t)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.sayFolder(t, fmt.Sprintf("cannot read %s: %v", t, err))
		}
		if !w.watched[t] {
			if a := dirwatch.ExistingAncestor(t); a != "" && !w.watched[a] {
				need[a] = true
			}
		}
	}
	for a := range need {
		if !w.ancestor[a] {
			if err := w.n.Add(a); err == nil {
				w.ancestor[a] = true
				addedAncestor = true
			}
		}
	}
	for a := range w.ancestor {
		if !need[a] {
			if !w.watched[a] {
				_ = w.n.Remove(a)
			}
			delete(w.ancestor, a)
		}
	}
	return addedAncestor
}

func (w *Watcher) sayFolder(dir, msg string) {
	if w.said[dir] == msg {
		return
	}
	w.said[dir] = msg
	w.emit(Event{Kind: KindError, Path: dir, Err: msg})
}

// rescanDir lists a folder and looks at what is new or gone. Known, handled
// files are not stat'ed again, so a rescan of 10,000 reports is one listing.
func (w *Watcher) rescanDir(dir string, history bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.sayFolder(dir, fmt.Sprintf("cannot read %s: %v", dir, err))
		}
		return
	}
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		present[p] = true
		if w.isCore[dir] {
			w.checkCore(p, history)
			continue
		}
		if fs := w.files[p]; fs != nil && fs.done && !fs.pending {
			continue
		}
		if _, known := w.cfg.State.PathID(p); known && w.files[p] == nil {
			continue
		}
		w.checkReport(p)
	}
	for p := range w.files {
		if filepath.Dir(p) == dir && !present[p] {
			delete(w.files, p)
			w.cfg.State.ForgetPath(p)
		}
	}
	for p, c := range w.cores {
		if filepath.Dir(p) == dir && !present[p] {
			w.dropCore(p, c)
		}
	}
}

func sigOf(fi fs.FileInfo) fileSig {
	return fileSig{size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode()}
}

// checkReport looks at a path in a report folder and reads it if it is new
// or changed.
func (w *Watcher) checkReport(p string) {
	if !report.IsReportName(filepath.Base(p)) {
		return
	}
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			delete(w.files, p)
			w.cfg.State.ForgetPath(p)
		}
		return
	}
	now := time.Now()
	st := w.files[p]
	if st == nil {
		st = &fileState{lastChange: now}
		w.files[p] = st
	}
	sig := sigOf(fi)
	if st.sig != sig {
		st.sig, st.lastChange, st.done, st.said, st.waitSaid = sig, now, false, false, false
		st.settled = settledInfo(fi, now, w.cfg.QuietAfter)
	}
	if st.done {
		return
	}
	if !fi.Mode().IsRegular() {
		// Reports are regular files. A symlink here (to /dev/zero, or out of
		// the folder) or a FIFO is not read.
		st.done = true
		w.fail(p, st, nil, fmt.Sprintf("%s is a %s, not a crash report file; not read", p, kindOfEntry(fi.Mode())))
		return
	}
	r, err := report.ReadFileThen(p, w.prefetch)
	w.result(p, st, r, err)
}

// prefetch hands the parent pid a report's start names to Config.Prefetch
// and runs the reads they return, before the report is parsed.
//
// They run here, not on a goroutine beside the parse. On a machine whose
// cores sleep between crashes, the thread woken for that goroutine
// started about 125 µs after it was asked and took 140 µs to read (a core
// just woken), so the watcher still waited about 110 µs for it after the
// parse. Read here, the read takes about 120 µs, nothing is waited for,
// and a drop of the 40 KB duckdb report took 30 µs less (an instrumented
// build, and nine alternated runs of 60 drops; medians).
//
// The store's question whether the report is known is not asked here. It
// was asked beside the parse, on the same goroutine as the reads: with
// this machine's cores asleep between crashes, the thread woken for it
// answered late, and the watcher waited 150 µs for it after the parse (40
// drops of the 40 KB duckdb report, medians). It is asked after the parse,
// in result; the history database answers it from memory (history.DB's
// known ids), the query it made took 75 µs of the path.
func (w *Watcher) prefetch(prefix []byte) {
	if len(w.cfg.Prefetch) == 0 {
		return
	}
	// Called for every report read, with 0 when its start names no
	// parent: a read started for an earlier report (one that did not
	// parse) is then dropped, never used for this one.
	pid := report.PeekParent(prefix)
	for _, f := range w.cfg.Prefetch {
		if run := f(pid); run != nil {
			run()
		}
	}
}

func kindOfEntry(m fs.FileMode) string {
	if m&fs.ModeSymlink != 0 {
		return "symlink"
	}
	return regular.KindOf(m)
}

// result acts on the outcome of reading a report.
func (w *Watcher) result(p string, st *fileState, r *report.Report, err error) {
	now := time.Now()
	switch {
	case err == nil:
		st.done, st.pending = true, false
		if w.cfg.State.Seen(r.ID) {
			w.cfg.State.MarkPath(p, r.ID)
			w.scheduleSave()
			return
		}
		for _, f := range w.cfg.Enrich {
			f(r)
		}
		w.cfg.State.MarkSeen(r, now)
		w.scheduleSave()
		w.rememberPID(r)
		ev := Event{Kind: KindCrash, Report: r, History: st.history}
		if c := w.coreByPID[r.PID]; c != nil && r.PID != 0 {
			ev.Core = c.file()
		}
		w.emit(ev)
	case errors.Is(err, report.ErrIncomplete):
		// A settled file (renamed in, or unchanged for QuietAfter by its own
		// time) will not grow: what parsed is final at once. An empty one
		// still waits (a writer may have created it and set its mode).
		if now.Sub(st.lastChange) >= w.cfg.QuietAfter || (st.settled && r != nil) {
			if r != nil {
				// Unchanged for QuietAfter: not a file still being written
				// but an excerpt or a header only. Classified from what is
				// there (Partial set), as `inspect` does, and recorded like
				// any crash, so that the next start knows it.
				r.Partial = true
				w.result(p, st, r, nil)
				return
			}
			st.done, st.pending = true, false
			w.fail(p, st, r, fmt.Sprintf("unreadable: %v (unchanged for %v)", err, w.cfg.QuietAfter.Round(time.Second)))
			return
		}
		if !st.waitSaid {
			st.waitSaid = true
			w.emit(Event{Kind: KindWaiting, Path: p, Note: fmt.Sprintf("does not parse whole yet; waiting for it to finish (classified from what is there once unchanged for %v)", w.cfg.QuietAfter.Round(time.Second)), History: st.history})
		}
		if !st.pending {
			st.pending, st.backoff = true, firstRetry
		} else {
			st.backoff = min(st.backoff*2, maxRetry)
		}
		st.nextTry = now.Add(st.backoff)
	case errors.Is(err, report.ErrOtherDiagnostic):
		st.done, st.pending = true, false
	case errors.Is(err, fs.ErrNotExist):
		delete(w.files, p)
	default:
		st.done, st.pending = true, false
		w.fail(p, st, r, err.Error())
	}
}

func (w *Watcher) fail(p string, st *fileState, r *report.Report, msg string) {
	if st.said {
		return
	}
	st.said = true
	if st.done {
		// Final for this version of the file: remembered (badfile.go), and
		// not said again when an earlier run said it.
		id := BadID(st.sig.size, st.sig.mtime)
		if old, ok := w.cfg.State.PathID(p); ok && old == id {
			return
		}
		w.cfg.State.MarkPath(p, id)
		w.scheduleSave()
	}
	w.emit(Event{Kind: KindError, Path: p, Err: report.Clean(msg, 512), Report: r})
}

func (w *Watcher) rememberPID(r *report.Report) {
	if r.PID == 0 {
		return
	}
	if _, ok := w.pids[r.PID]; !ok {
		w.pidOrder = append(w.pidOrder, r.PID)
		if len(w.pidOrder) > maxPIDs {
			delete(w.pids, w.pidOrder[0])
			w.pidOrder = w.pidOrder[1:]
		}
	}
	w.pids[r.PID] = r.Process
}

func (c *coreState) file() *report.CoreFile {
	f := &report.CoreFile{}
	if c.enriched != nil {
		*f = *c.enriched
	}
	f.Path, f.PID, f.Size, f.Complete = c.path, c.pid, c.size, c.complete
	return f
}

// checkCore looks at an entry of the core folder. It never opens the file.
func (w *Watcher) checkCore(p string, history bool) {
	name := filepath.Base(p)
	pid, ok := corePID(w.coreRE, name)
	if !ok {
		return
	}
	fi, err := os.Lstat(p)
	if err != nil {
		if c := w.cores[p]; c != nil {
			w.dropCore(p, c)
		}
		return
	}
	now := time.Now()
	c := w.cores[p]
	if !fi.Mode().IsRegular() {
		// /cores is world-writable: anyone can put a symlink or a folder
		// there. Say so once; never follow it.
		st := w.files[p]
		if st == nil || st.sig != sigOf(fi) {
			st = &fileState{sig: sigOf(fi)}
			w.files[p] = st
			w.fail(p, st, nil, fmt.Sprintf("%s is a %s, not a core file; ignored", p, kindOfEntry(fi.Mode())))
		}
		return
	}
	if c == nil {
		c = &coreState{path: p, pid: pid, size: fi.Size(), lastChange: now, nextCheck: now.Add(min(coreCheckEvery, w.cfg.CoreSettle)), history: history}
		if size, ok := w.cfg.State.CoreAnnounced(p); ok && size == fi.Size() {
			c.complete = true
			w.cores[p] = c
			w.coreByPID[pid] = c
			return
		}
		w.cores[p] = c
		w.coreByPID[pid] = c
		c.enriched = c.file()
		for _, f := range w.cfg.EnrichCore {
			f(c.enriched)
		}
		w.emitCore(c)
		return
	}
	if fi.Size() != c.size {
		c.size, c.lastChange = fi.Size(), now
		if c.complete {
			// Written again after it settled (a new crash, same pid).
			c.complete = false
		}
	}
}

func (w *Watcher) emitCore(c *coreState) {
	f := c.file()
	if p := w.pids[c.pid]; p != "" {
		f.Process = p
	}
	w.emit(Event{Kind: KindCore, Core: f, History: c.history})
}

func (w *Watcher) dropCore(p string, c *coreState) {
	delete(w.cores, p)
	if w.coreByPID[c.pid] == c {
		delete(w.coreByPID, c.pid)
	}
	w.cfg.State.ForgetPath(p)
	w.scheduleSave()
}

func (w *Watcher) scheduleSave() {
	if w.saveAt.IsZero() {
		w.saveAt = time.Now().Add(saveDelay)
	}
}

// arm sets the one timer to the earliest thing that needs doing: a retry, a
// core-size check, a rescan, a state save. With nothing to do it stays off,
// so an idle watcher never wakes up on its own.
func (w *Watcher) arm() {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	consider(w.saveAt)
	if len(w.rescan) > 0 {
		consider(time.Now())
	}
	for _, st := range w.files {
		if st.pending {
			consider(st.nextTry)
		}
	}
	for _, c := range w.cores {
		if !c.complete {
			consider(c.nextCheck)
		}
	}
	w.timer.Stop()
	select {
	case <-w.timer.C:
	default:
	}
	if !next.IsZero() {
		w.timer.Reset(max(time.Until(next), 0))
	}
}

func (w *Watcher) tick() {
	now := time.Now()
	for dir := range w.rescan {
		delete(w.rescan, dir)
		w.rescanDir(dir, false)
	}
	for p, st := range w.files {
		if !st.pending || now.Before(st.nextTry) {
			continue
		}
		w.checkPending(p, st)
	}
	for p, c := range w.cores {
		if c.complete {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			w.dropCore(p, c)
			continue
		}
		c.nextCheck = now.Add(min(coreCheckEvery, w.cfg.CoreSettle))
		if fi.Size() != c.size {
			c.size, c.lastChange = fi.Size(), now
			continue
		}
		if d := c.lastChange.Add(w.cfg.CoreSettle); d.Before(c.nextCheck) {
			c.nextCheck = d
		}
		if now.Sub(c.lastChange) >= w.cfg.CoreSettle {
			c.complete = true
			w.cfg.State.MarkCore(p, c.size)
			w.scheduleSave()
			w.emitCore(c)
		}
	}
	if !w.saveAt.IsZero() && !now.Before(w.saveAt) {
		w.saveAt = time.Time{}
		if err := w.cfg.State.Save(); err != nil {
			w.log.Error("save state", "err", err)
			w.emit(Event{Kind: KindError, Path: "", Err: report.Clean(err.Error(), 512)})
		}
	}
}

// checkPending re-reads a pending report if it changed, or gives up on it
// once it has been quiet for QuietAfter.
func (w *Watcher) checkPending(p string, st *fileState) {
	fi, err := os.Lstat(p)
	if err != nil {
		delete(w.files, p)
		return
	}
	if sigOf(fi) != st.sig {
		st.sig, st.lastChange = sigOf(fi), time.Now()
		st.settled = settledInfo(fi, st.lastChange, w.cfg.QuietAfter)
		r, err := report.ReadFile(p)
		w.result(p, st, r, err)
		return
	}
	if time.Since(st.lastChange) >= w.cfg.QuietAfter {
		r, err := report.ReadFile(p)
		w.result(p, st, r, err)
		return
	}
	st.backoff = min(st.backoff*2, maxRetry)
	st.nextTry = time.Now().Add(st.backoff)
	if d := st.lastChange.Add(w.cfg.QuietAfter); d.Before(st.nextTry) {
		st.nextTry = d
	}
}
