// Package pages writes the HTML pages the menu opens and the commands
// write: the check of this Mac (`doctor --html`, "Check This Mac…", "Test
// Fork Safety…"), the crash history (`history --page`, "Crash History…")
// and the explanation of the crash ("About the Fork-Safety Crash…"). Each
// is written atomically into the support folder (or where asked) and its
// path returned; opening it is the desktop's job.
package pages

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/internal/atomicfile"
	"github.com/forkwatch/forkwatch/monitor"
	"github.com/forkwatch/forkwatch/monitor/history"
	"github.com/forkwatch/forkwatch/monitor/report"
	"github.com/forkwatch/forkwatch/settings/doctor"
)

// DoctorOptions are the doctor's options for this user: the app's support
// folder (where the watcher looks for probe pids) and the venvs of recent
// crashes from the watcher's state file.
func DoctorOptions(support string, log *slog.Logger) doctor.Options {
	opts := doctor.DefaultOptions()
	opts.SupportDir = support
	opts.Settings.SupportDir = support
	opts.Log = log
	opts.ExtraPythons = recentVenvs(filepath.Join(support, "history.db"), filepath.Join(support, "state.json"))
	return opts
}

// recentVenvs lists the virtual environments of the crashes the watcher
// remembers (the history of the last 90 days, else the JSON state of older
// versions), so the check covers the Pythons that actually crashed.
func recentVenvs(dbPath, statePath string) []string {
	var recent []report.Report
	if r, err := history.OpenReader(dbPath, time.Local); err == nil {
		crashes, err := r.Crashes(context.Background(), time.Now().AddDate(0, 0, -90), 2000)
		r.Close()
		if err == nil {
			for _, c := range crashes {
				recent = append(recent, c.Report)
			}
		}
	} else if st, err := monitor.LoadState(statePath); err == nil && st != nil {
		recent = st.Recent()
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range recent {
		if r.Venv != "" && !seen[r.Venv] && filepath.IsAbs(r.Venv) {
			seen[r.Venv] = true
			out = append(out, r.Venv)
		}
	}
	return out
}

// WriteDoctorHTML writes the page atomically; the folder must exist.
func WriteDoctorHTML(path string, rep doctor.Report) error {
	var b strings.Builder
	if err := doctor.WriteHTML(&b, rep); err != nil {
		return err
	}
	if err := atomicfile.WriteAtomic(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// DoctorPage runs the check (with the probe for "Test Fork Safety…") and
// writes the page the menu's "Check This Mac…" opens; it returns the page's
// path, support/check-this-mac.html, for Desktop.OpenDocument. It takes a
// second or two (up to ProbeTimeout per run with the probe): call it off
// the menu's event loop.
func DoctorPage(ctx context.Context, support string, probe bool, log *slog.Logger, db *history.DB) (string, error) {
	opts := DoctorOptions(support, log)
	opts.Probe = probe
	rep, err := doctor.Run(ctx, opts)
	if err != nil {
		return "", err
	}
	RecordProbes(db, rep, log)
	// The support folder is Forkwatch's own: made here if need be (never
	// the folders of a path a user gave: WriteDoctorHTML does not).
	if err := os.MkdirAll(support, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", support, err)
	}
	path := filepath.Join(support, "check-this-mac.html")
	return path, WriteDoctorHTML(path, rep)
}

// RecordProbes puts each probed interpreter's outcome into the history: OK
// when the child survived the fork with the environment apps get now.
func RecordProbes(db *history.DB, rep doctor.Report, log *slog.Logger) {
	if db == nil {
		return
	}
	for _, in := range rep.Interpreters {
		if in.Probe == nil {
			continue
		}
		p := history.Probe{Time: rep.Time, Name: in.Path, OK: in.Probe.Without.Outcome == doctor.Survived, Detail: in.Probe.Verdict}
		if err := db.RecordProbe(p); err != nil && log != nil {
			log.Warn("history: record probe", "err", err)
		}
	}
}
