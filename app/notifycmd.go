package main

import (
	"context"
	"fmt"
	"io"
)

// runNotify is `forkwatch notify`. (Placeholder until its helper lands it.)
func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_ = ctx
	fmt.Fprintln(stderr, "forkwatch notify: not built yet")
	return 1
}
