package main

import "errors"

func runApp(args []string) error { return errors.New("not yet") }
