package tray

import (
	"strings"
	"testing"
	"time"

	"github.com/forkwatch/forkwatch/app/internal/policy"
	"github.com/forkwatch/forkwatch/settings"
)

// TestMenuManagedToggles: the menu greys an enforced toggle and says why;
// the others stay clickable.
func TestMenuManagedToggles(t *testing.T) {
	s := MenuState{Now: time.Now(), Toggles: []ToggleView{
		{Name: settings.UlimitCore, Label: "Limit", State: settings.State{On: true}, Managed: true},
		{Name: settings.CoredumpOff, Label: "Core dumps off"},
	}, ExportLine: "Export: to http://127.0.0.1:4318, 3 waiting"}
	items := map[string]Item{}
	for _, it := range BuildMenu(s) {
		items[it.ID] = it
	}
	if it := items["toggle.ulimit-core"]; !it.Disabled || !it.Checked || !strings.Contains(it.Title, policy.ManagedReason) {
		t.Errorf("managed toggle item: %+v", it)
	}
	if it := items["toggle.coredump-off"]; it.Disabled || strings.Contains(it.Title, policy.ManagedReason) {
		t.Errorf("unmanaged toggle item: %+v", it)
	}
	if it := items["about.export"]; it.Hidden || !strings.Contains(it.Title, "3 waiting") {
		t.Errorf("export line: %+v", it)
	}
	s.ExportLine = ""
	for _, it := range BuildMenu(s) {
		if it.ID == "about.export" && !it.Hidden {
			t.Errorf("export line shown with export off")
		}
	}
}
