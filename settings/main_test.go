package settings

import (
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

// TestMain gives the tests a temporary folder internal/trust accepts: the
// fake sysctl, launchctl and osascript put first on PATH are run only from
// such a folder (internal/syscmd refuses a command in a folder others can
// write, and Linux's /tmp is one).
func TestMain(m *testing.M) { trusttest.Main(m) }
