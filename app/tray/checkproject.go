package tray

import (
	"context"
)

// checkProject is "Check a Project…": a folder chooser, then the
// preflight of `forkwatch check` on the folder chosen, its verdict as a
// notification (asked for, so sent even while alerts are paused). The item
// says it is working meanwhile; Cancel does nothing.
func (c *Controller) checkProject(ctx context.Context) {
	if c.cfg.ChooseFolder == nil || c.cfg.CheckProject == nil || !c.state.startWork("checkproject") {
		return
	}
	c.later(ctx, func() func() {
		dir, ok, err := c.cfg.ChooseFolder(ctx, "Choose a project to check for forks without exec")
		var title, body string
		if err == nil && ok {
			title, body, err = c.cfg.CheckProject(dir)
		}
		return func() {
			delete(c.state.Working, "checkproject")
			switch {
			case err != nil:
				c.fail("Check a Project", err)
			case ok && c.cfg.Notifier != nil:
				go c.cfg.Notifier.Notify(title, body)
			}
		}
	})
}
