package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"io"
	"io/fs"
	"os"
	"time"
)

// stateFile is the JSON state of Forkwatch before the database (version 1,
// written by monitor.State): read here once, field for field. monitor.State
// keeps its maps private, so the format is read directly.
type stateFile struct {
	Version int               `json:"version"`
	Seen    map[string]int64  `json:"seen"`
	Paths   map[string]string `json:"paths"`
	Cores   map[string]int64  `json:"cores"`
	Recent  []report.Report   `json:"recent"`
}

// Imported says what ImportState brought in.
type Imported struct {
	Seen, Paths, Cores, Recent int
	// Already is set when this file was imported before; nothing was read.
	Already bool
}

// maxStateSize matches monitor.LoadState's limit.
const maxStateSize = 64 << 20

// ImportState brings in the JSON state file at path (the seen ids, known
// report paths, announced core files and recent crashes) once: the import
// is recorded in the imports table in the same transaction, and a second
// call does nothing. A missing file imports nothing and records nothing; an
// unreadable one is left in place and reported. The file itself is not
// touched, so the import can be redone into a fresh database.
func (d *DB) ImportState(path string) (Imported, error) {
	var im Imported
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return im, errors.New("history: closed")
	}
	var n int
	if err := d.conn.QueryRowContext(bg, `SELECT count(*) FROM imports WHERE source = ?`, path).Scan(&n); err != nil {
		return im, fmt.Errorf("history: import %s: %w", path, err)
	}
	if n > 0 {
		im.Already = true
		return im, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return im, nil
	}
	if err != nil {
		return im, fmt.Errorf("history: import %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return im, fmt.Errorf("history: import %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return im, fmt.Errorf("history: import %s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return im, fmt.Errorf("history: import %s: %w", path, err)
	}
	if len(data) > maxStateSize {
		return im, fmt.Errorf("history: import %s: larger than %d bytes", path, maxStateSize)
	}
	var sf stateFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return im, fmt.Errorf("history: import %s: %w", path, err)
	}
	if sf.Version != 1 {
		return im, fmt.Errorf("history: import %s: state version %d, expected 1", path, sf.Version)
	}
	now := d.opts.Now()
	err = d.write(func() error {
		for i := range sf.Recent {
			r := &sf.Recent[i]
			if r.ID == "" {
				continue
			}
			seen := now
			if t, ok := sf.Seen[r.ID]; ok {
				seen = time.Unix(t, 0)
			}
			if err := d.insertCrash(r, seen); err != nil {
				return err
			}
			im.Recent++
		}
		for id, t := range sf.Seen {
			if _, err := d.st.insertSeen.Exec(id, t); err != nil {
				return fmt.Errorf("history: import seen %q: %w", id, err)
			}
			d.txSeen = append(d.txSeen, id)
			im.Seen++
		}
		for p, id := range sf.Paths {
			if _, err := d.st.setPath.Exec(p, id); err != nil {
				return fmt.Errorf("history: import path %s: %w", p, err)
			}
			im.Paths++
		}
		for p, size := range sf.Cores {
			done := now.Unix()
			if err := d.upsertCore(report.CoreFile{Path: p, Size: size}, now.Unix(), &done); err != nil {
				return err
			}
			im.Cores++
		}
		_, err := d.conn.ExecContext(bg, `INSERT INTO imports(source, imported_at, seen, paths, cores, recent) VALUES(?, ?, ?, ?, ?, ?)`,
			path, now.Unix(), im.Seen, im.Paths, im.Cores, im.Recent)
		return err
	})
	if err != nil {
		return Imported{}, fmt.Errorf("history: import %s: %w", path, err)
	}
	d.firstRun = false
	return im, nil
}
