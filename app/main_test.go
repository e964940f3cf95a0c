package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/forkwatch/forkwatch/internal/trust/trusttest"
)

// TestMain gives the tests a temporary folder that internal/trust accepts
// (on Linux /tmp is world-writable, so no fake python below it would run;
// trusttest.Main does the same for the other packages), notes the go
// command's caches for the builds tests make, and starts building the
// forkwatch binary the end-to-end tests share, in the background.
func TestMain(m *testing.M) {
	dir, cleanup, err := trusttest.SafeTempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "trusttest:", err)
		os.Exit(2)
	}
	os.Setenv("TMPDIR", dir)
	if err := initBuildEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binDir, err := os.MkdirTemp("", "forkwatch-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go buildForkwatch(ctx, binDir)
	code := m.Run()
	cancel() // a run that needed no binary does not wait for one
	<-binDone
	os.RemoveAll(binDir)
	cleanup()
	os.Exit(code)
}
