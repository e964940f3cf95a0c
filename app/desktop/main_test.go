package desktop

import (
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

// TestMain points TMPDIR at a folder trust accepts: the fake commands the
// tests put first on PATH live under t.TempDir(), and syscmd refuses to run
// a command from a folder others can write (Linux's /tmp).
func TestMain(m *testing.M) { trusttest.Main(m) }
