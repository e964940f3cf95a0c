package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// traceOnlyPython refuses, before anything is run, a fork-tracing target
// that is another runtime's interpreter (a Ruby from rbenv, php-fpm, perl,
// node) or a project of one without a venv: the tracer is a Python module
// installed through site-packages and os.register_at_fork, with no
// counterpart in those runtimes. Their crashes are still watched,
// attributed and announced; only the line that forked is Python's alone.
// The name is read as given and after symlinks (/usr/bin/ruby ->
// ruby3.1).
func traceOnlyPython(target string) error {
	names := []string{target}
	if real, err := filepath.EvalSymlinks(target); err == nil {
		names = append(names, real)
	}
	for _, n := range names {
		if rt := report.RuntimeOfName(n); rt != "" && rt != report.RuntimePython {
			return fmt.Errorf("%s is %s: fork tracing is for Python only (it hooks os.register_at_fork); %s crashes after fork() are still watched, attributed and announced", report.Clean(target, 1024), report.RuntimeLabel(rt), report.RuntimeLabel(rt))
		}
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		if _, err := os.Stat(filepath.Join(target, "bin", "python3")); err == nil {
			return nil
		}
		for marker, label := range map[string]string{"Gemfile": "a Ruby project", "composer.json": "a PHP project", "cpanfile": "a Perl project", "package.json": "a Node.js project"} {
			if _, err := os.Stat(filepath.Join(target, marker)); err == nil {
				return fmt.Errorf("%s is %s (%s) without a Python venv: fork tracing is for Python only; its crashes after fork() are still watched, attributed and announced", report.Clean(target, 1024), label, marker)
			}
		}
	}
	return nil
}
