package main

import (
	"context"
	"io"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int    { return 1 }
func runSet(ctx context.Context, args []string, stdout, stderr io.Writer) int       { return 1 }
func runUninstall(ctx context.Context, args []string, stdout, stderr io.Writer) int { return 1 }
func runApp(ctx context.Context, args []string, stdout, stderr io.Writer) int       { return 1 }
