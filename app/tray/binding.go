//go:build cgo || !darwin

// This is the only file that imports getlantern/systray. On macOS the
// library needs cgo (Cocoa); builds without cgo use binding_nocgo.go instead,
// so `GOOS=darwin CGO_ENABLED=0 go vet ./...` covers everything else. On
// Linux it uses Ayatana AppIndicator (libayatana-appindicator3), which falls
// back to an XEmbed tray icon where no StatusNotifier host runs (trayer).

package tray

import (
	"os"
	"runtime"

	"github.com/getlantern/systray"

	"github.com/forkwatch/forkwatch/assets"
)

// Run runs the menu bar on the calling (main) goroutine. onReady receives
// the UI once systray is up; clicks go to the channel. onExit is the last
// code that runs: Run never returns once the menu bar is up, on any
// platform, so the caller's whole stop sequence belongs in onExit.
//
// That is how macOS behaves, and Linux is made to behave the same way.
// getlantern/systray v1.2.2 on darwin: Quit → C quit() → -[AppDelegate
// quit] → [NSApp terminate:self] (systray_darwin.m:206-209) →
// -applicationWillTerminate: → systray_on_exit → onExit (systray.go:105),
// and "the app will terminate after this method returns" (Apple,
// NSApplicationDelegate applicationWillTerminate:), so nothing after
// systray.Run runs there. On Linux nativeLoop returns from gtk_main after
// do_quit's gtk_main_quit, calls systray_on_exit (systray_linux.c:44-48,
// 217-223) and systray.Run returns; we then end the process at once, as
// [NSApp terminate:] does, so that code after Run is never relied on.
func Run(clicks chan<- string, onReady func(UI), onExit func()) error {
	systray.Run(func() {
		ui := &trayUI{items: map[string]*systray.MenuItem{}, last: map[string]Item{}, clicks: clicks}
		ui.setIcon(false)
		systray.SetTooltip("Forkwatch")
		onReady(ui)
	}, onExit)
	// Reached on Linux only (see above): end the process as macOS does.
	os.Exit(0)
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
