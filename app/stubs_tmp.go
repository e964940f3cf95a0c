package main

import (
	"context"
	"io"
)

func runApp(ctx context.Context, args []string, stdout, stderr io.Writer) int { return 1 }
