package doctor

import (
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

// TestMain gives the tests a temporary folder that internal/trust accepts
// (on Linux /tmp is world-writable, so nothing below it would run).
func TestMain(m *testing.M) { trusttest.Main(m) }
