package pages

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/forkwatch/forkwatch/assets"
	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/monitor/history"
)

// WriteHistoryPage writes the history page to out (default: history.html
// beside the database) and returns its absolute path. The menu's "Crash
// History…" item calls it and opens the file.
func WriteHistoryPage(ctx context.Context, r *history.Reader, dbPath, out string, now, since time.Time) (string, error) {
	if out == "" {
		out = filepath.Join(filepath.Dir(dbPath), "history.html")
	}
	target, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := r.WritePage(ctx, &b, history.PageOptions{Now: now, Since: since}); err != nil {
		return "", err
	}
	if err := atomicfile.WriteAtomic(target, b.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("write page: %w (choose another file with --out)", err)
	}
	return target, nil
}

// AboutPage writes the explanation of the fork-safety crash into the
// support folder and returns its path.
func AboutPage(support string) (string, error) {
	p := filepath.Join(support, "about.html")
	if err := atomicfile.WriteAtomic(p, assets.AboutHTML, 0o644); err != nil {
		return "", err
	}
	return p, nil
}
