package tray

import (
	"context"
	"time"

	"github.com/forkwatch/forkwatch/app/desktop"
	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/app/pages"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/settings"
)

// openPage runs slow work that writes a page (the check of this Mac, the
// history), marking the item as working meanwhile, then opens the page.
func (c *Controller) openPage(ctx context.Context, id, failTitle string, write func() (string, error)) {
	if !c.state.startWork(id) {
		return
	}
	c.later(ctx, func() func() {
		err := c.cfg.Env.MkdirRecorded(c.cfg.SupportDir)
		var p string
		if err == nil {
			p, err = write()
		}
		if err == nil {
			err = c.cfg.Desktop.OpenDocument(ctx, p)
		}
		return func() {
			delete(c.state.Working, id)
			if err != nil {
				c.fail(failTitle, err)
			}
		}
	})
}

// historyPage writes the history page from the database this process
// records (db), or, when another Forkwatch records it, from a read-only
// look.
func historyPage(ctx context.Context, db *history.DB, now time.Time) (string, error) {
	if db != nil {
		return pages.WriteHistoryPage(ctx, db.Reader, db.Path(), "", now, time.Time{})
	}
	r, err := history.OpenReader(appinfo.HistoryDBPath(), time.Local)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return pages.WriteHistoryPage(ctx, r, appinfo.HistoryDBPath(), "", now, time.Time{})
}

// openAbout writes the explanation page into the support folder and opens
// it.
func openAbout(ctx context.Context, env settings.Env, support string, desk desktop.Desktop) error {
	if err := env.MkdirRecorded(support); err != nil {
		return err
	}
	p, err := pages.AboutPage(support)
	if err != nil {
		return err
	}
	return desk.OpenDocument(ctx, p)
}
