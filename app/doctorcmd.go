package main

import (
	"context"
	"fmt"
	"io"
)

// runDoctor is `forkwatch doctor`. (Placeholder until its helper lands it.)
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_ = ctx
	fmt.Fprintln(stderr, "forkwatch doctor: not built yet")
	return 1
}
