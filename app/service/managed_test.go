package service

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/forkwatch/forkwatch/monitor/export"
	"github.com/forkwatch/forkwatch/settings"
	"github.com/forkwatch/forkwatch/settings/managed"
)

// TestExportLineUserinfo: an endpoint with a user or password that reaches
// the export line (the menu's About, `status`) is said as
// export.ErrUserinfo's one line and never printed; one without is shown.
func TestExportLineUserinfo(t *testing.T) {
	ctx := context.Background()
	line := ExportLine(ctx, "https://ana:s3cr3t@collector.example:4318", nil)
	if line != "Export: not used: "+export.ErrUserinfo.Error() || strings.Contains(line, "s3cr3t") || strings.Contains(line, "ana") {
		t.Errorf("userinfo: %q", line)
	}
	if line := ExportLine(ctx, "https://collector.example:4318", nil); line != "Export: to https://collector.example:4318, all sent" {
		t.Errorf("control: %q", line)
	}
}

// syncBuffer is a log destination the profile watcher may write to while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStartManagedAnnouncesInLog: the menu-bar app passes no announce
// function, so each enforced toggle is said once in its log (the log file
// under the log folder), with the profile it comes from.
func TestStartManagedAnnouncesInLog(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("SHELL", "/bin/zsh")
	mp := filepath.Join(home, "Managed Preferences")
	os.MkdirAll(mp, 0o755)
	data, _ := plist.Marshal(map[string]any{managed.KeyEnforceToggles: map[string]any{settings.UlimitCore: true}}, plist.XMLFormat)
	os.WriteFile(filepath.Join(mp, managed.Domain+".plist"), data, 0o644)
	t.Setenv(managed.EnvDir, mp)

	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, exp := StartManaged(ctx, settings.DefaultEnv(), nil, 0, "test", log, nil, nil)
	defer exp.Stop()
	want := "managed preferences: ulimit-core is kept on: managed by your organization (configuration profile " + filepath.Join(mp, managed.Domain+".plist") + ")"
	if n := strings.Count(buf.String(), want); n != 1 {
		t.Errorf("the log says the enforced toggle %d times, want once:\n%s", n, buf.String())
	}
}
