package main

import (
	"context"
	"fmt"
	"io"
)

// runTrace is `forkwatch trace`. (Placeholder until its helper lands it.)
func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_ = ctx
	fmt.Fprintln(stderr, "forkwatch trace: not built yet")
	return 1
}
