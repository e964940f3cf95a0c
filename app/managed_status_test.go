package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// TestStatusUserinfoAndStandIn (issue 28, items 5 and 7): an export
// endpoint with a user and password in it was printed whole by `status`,
// `status --json` and the export log, and silently not used. The profile
// reader refuses it (settings/managed.ErrEndpointUserinfo); now `status`
// says that one line on stdout ("Managed settings: not used: …"),
// `status --json` carries it (managed_settings.problems), watch's log says
// it once, and none prints the user or the password. Both also say that
// the FORKWATCH_MANAGED_PREFS stand-in is in use. The control: an
// endpoint without userinfo is shown as it is, with no problem.
func TestStatusUserinfoAndStandIn(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	home := envValue(env, "HOME")
	mp := filepath.Join(home, "Managed Preferences")
	env = append(env, managed.EnvDir+"="+mp)
	const secret = "s3cr3t-pw"
	writeProfile(t, mp, map[string]any{managed.KeyExportEndpoint: "https://ana:" + secret + "@collector.example:4318"})
	noSecret := func(what, s string) {
		t.Helper()
		if strings.Contains(s, secret) || strings.Contains(s, "ana:") || strings.Contains(s, "ana@") {
			t.Errorf("%s prints the userinfo:\n%s", what, s)
		}
	}

	out, errOut, _ := runSplit(t, env, "status")
	noSecret("status", out+errOut)
	if !strings.Contains(out, "Managed settings: not used: "+filepath.Join(mp, managed.Domain+".plist")+": ExportEndpoint: "+managed.ErrEndpointUserinfo.Error()) || strings.Contains(errOut, "ExportEndpoint") {
		t.Errorf("status does not say the endpoint is refused, once, on stdout:\n%s\nstderr: %s", out, errOut)
	}
	if !strings.Contains(out, "Managed settings: the stand-in "+mp+" ("+managed.EnvDir+") is in use") {
		t.Errorf("status does not say the stand-in is in use:\n%s", out)
	}

	out, errOut, _ = runSplit(t, env, "status", "--json")
	noSecret("status --json", out+errOut)
	st, err := statusObjects(out)
	if err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	ms := st["managed_settings"]
	if ms["stand_in"] != mp || !strings.Contains(fmt.Sprint(ms["problems"]), managed.ErrEndpointUserinfo.Error()) {
		t.Errorf("status --json managed_settings: %v", ms)
	}
	if st["export"] != nil {
		t.Errorf("status --json export: %v, want none (the endpoint is not used)", st["export"])
	}

	d := t.TempDir()
	p := startForkwatch(t, env, "watch", "--reports-dir", filepath.Join(d, "reports"), "--cores-dir", "")
	p.ready()
	p.stop()
	logs := p.stderr()
	noSecret("watch's log", logs)
	if n := strings.Count(logs, managed.ErrEndpointUserinfo.Error()); n != 1 {
		t.Errorf("watch's log says the refusal %d times, want once:\n%s", n, logs)
	}

	// The control.
	writeProfile(t, mp, map[string]any{managed.KeyExportEndpoint: "https://collector.example:4318"})
	out, _, _ = runSplit(t, env, "status", "--json")
	st, _ = statusObjects(out)
	if ex := st["export"]; ex["error"] != nil || ex["endpoint"] != "https://collector.example:4318" || st["managed_settings"]["problems"] != nil {
		t.Errorf("control: status --json: %v", st)
	}
	out, _, _ = runSplit(t, env, "status")
	if !strings.Contains(out, "Export: to https://collector.example:4318") {
		t.Errorf("control: status:\n%s", out)
	}
}

// TestEnforcedToggleAnnounced (issue 28): an enforced toggle was applied
// with no word to the user. `watch` now says each one once, with the
// profile it comes from, at start and when a profile change enforces
// another; a change that enforces nothing new says nothing again.
func TestEnforcedToggleAnnounced(t *testing.T) {
	t.Parallel()
	env := append(fakeCommands(t, testEnv(t)), "FORKWATCH_PLATFORM=darwin")
	home := envValue(env, "HOME")
	mp := filepath.Join(home, "Managed Preferences")
	env = append(env, managed.EnvDir+"="+mp, "SHELL=/bin/zsh")
	writeProfile(t, mp, map[string]any{managed.KeyEnforceToggles: map[string]any{settings.UlimitCore: true}})
	src := filepath.Join(mp, managed.Domain+".plist")
	ulimit := "forkwatch watch: ulimit-core is kept on: managed by your organization (configuration profile " + src + ")"
	forkSafety := "forkwatch watch: fork-safety-off is kept on: managed by your organization (configuration profile " + src + ")"

	d := t.TempDir()
	p := startForkwatch(t, env, "watch", "--reports-dir", filepath.Join(d, "reports"), "--cores-dir", "", "--state", filepath.Join(d, "state.json"))
	p.ready()
	if !strings.Contains(p.stderr(), ulimit) {
		t.Fatalf("watch did not say the enforced toggle:\n%s", p.stderr())
	}
	writeProfile(t, mp, map[string]any{managed.KeyEnforceToggles: map[string]any{settings.UlimitCore: true, settings.ForkSafetyOff: true}})
	p.waitLog(forkSafety, 1)
	p.stop()
	logs := p.stderr()
	if strings.Count(logs, ulimit) != 1 || strings.Count(logs, forkSafety) != 1 {
		t.Errorf("each enforced toggle is said once:\n%s", logs)
	}
}

// statusObjects decodes status --json's one line into its object members
// (the toggles, export, managed_settings), leaving out `schema`, a number.
func statusObjects(line string) (map[string]map[string]any, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		return nil, err
	}
	st := map[string]map[string]any{}
	for k, v := range raw {
		var m map[string]any
		if json.Unmarshal(v, &m) == nil {
			st[k] = m
		}
	}
	return st, nil
}
