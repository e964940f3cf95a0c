package main

import (
	"context"
	"fmt"
	"io"
)

// runHistory is `forkwatch history`. (Placeholder until its helper lands it.)
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_ = ctx
	fmt.Fprintln(stderr, "forkwatch history: not built yet")
	return 1
}
