//go:build cgo || !darwin

// This is the only file that imports getlantern/systray. On macOS the
// library needs cgo (Cocoa); builds without cgo use binding_nocgo.go instead,
// so `GOOS=darwin CGO_ENABLED=0 go vet ./...` covers everything else. On
// Linux it uses Ayatana AppIndicator (libayatana-appindicator3), which falls
// back to an XEmbed tray icon where no StatusNotifier host runs (trayer).

package tray

import (
	"runtime"

	"github.com/getlantern/systray"

	"github.com/forkwatch/forkwatch/assets"
)

// Run runs the menu bar on the calling (main) goroutine until it quits.
// onReady receives the UI once systray is up; clicks go to the channel.
func Run(clicks chan<- string, onReady func(UI), onExit func()) error {
	systray.Run(func() {
		ui := &trayUI{items: map[string]*systray.MenuItem{}, last: map[string]Item{}, clicks: clicks}
		ui.setIcon(false)
		systray.SetTooltip("Forkwatch")
		onReady(ui)
	}, onExit)
	return nil
}

// trayUI copies menu items onto systray items. It is called from the
// controller's goroutine only; systray itself marshals each call onto the
// main thread (dispatch_async on macOS, g_idle_add on Linux).
type trayUI struct {
	items  map[string]*systray.MenuItem
	last   map[string]Item
	clicks chan<- string
	alert  *bool
}

func (t *trayUI) Update(items []Item) {
	for _, it := range items {
		mi, ok := t.items[it.ID]
		if !ok {
			mi = t.create(it)
			if mi == nil {
				continue
			}
		}
		prev, seen := t.last[it.ID]
		if seen && prev == it {
			continue
		}
		if !seen || prev.Title != it.Title {
			mi.SetTitle(it.Title)
		}
		if !seen || prev.Tooltip != it.Tooltip {
			mi.SetTooltip(it.Tooltip)
		}
		if !seen || prev.Checked != it.Checked {
			if it.Checked {
				mi.Check()
			} else {
				mi.Uncheck()
			}
		}
		if !seen || prev.Disabled != it.Disabled {
			if it.Disabled {
				mi.Disable()
			} else {
				mi.Enable()
			}
		}
		if !seen || prev.Hidden != it.Hidden {
			if it.Hidden {
				mi.Hide()
			} else {
				mi.Show()
			}
		}
		t.last[it.ID] = it
	}
}

// create adds an item the first time its ID is seen; the layout is fixed,
// so this happens in menu order on the first Update.
func (t *trayUI) create(it Item) *systray.MenuItem {
	var mi *systray.MenuItem
	if it.Parent == "" {
		if it.Separator {
			systray.AddSeparator()
		}
		if it.Checkbox {
			mi = systray.AddMenuItemCheckbox(it.Title, it.Tooltip, it.Checked)
		} else {
			mi = systray.AddMenuItem(it.Title, it.Tooltip)
		}
	} else {
		parent := t.items[it.Parent]
		if parent == nil {
			return nil
		}
		if it.Checkbox {
			mi = parent.AddSubMenuItemCheckbox(it.Title, it.Tooltip, it.Checked)
		} else {
			mi = parent.AddSubMenuItem(it.Title, it.Tooltip)
		}
	}
	t.items[it.ID] = mi
	id := it.ID
	go func() {
		for range mi.ClickedCh {
			t.clicks <- id
		}
	}()
	return mi
}

func (t *trayUI) SetAlert(alert bool) {
	if t.alert != nil && *t.alert == alert {
		return
	}
	t.setIcon(alert)
}

func (t *trayUI) setIcon(alert bool) {
	t.alert = &alert
	tmpl, regular := assets.Tray2xPNG, assets.Tray2xPNG
	if alert {
		tmpl, regular = assets.TrayAlert2xPNG, assets.TrayAlert2xPNG
	}
	if runtime.GOOS == "darwin" {
		// A template image: macOS tints it for light and dark menu bars.
		systray.SetTemplateIcon(tmpl, regular)
		return
	}
	systray.SetIcon(regular)
}

func (t *trayUI) Quit() { systray.Quit() }
