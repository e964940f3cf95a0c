package settings

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// createdFile lists, one per line, the folders Forkwatch created to hold a
// file of its own (~/Library/LaunchAgents on a fresh account, say).
func (env Env) createdFile() string {
	if env.SupportDir == "" {
		return ""
	}
	return filepath.Join(env.SupportDir, "created-folders")
}

// mkdirAll creates dir and the missing folders above it, recording each one
// it created so that uninstall can remove exactly those.
func (env Env) mkdirAll(dir string) error {
	missing := missingDirs(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if len(missing) == 0 || env.createdFile() == "" {
		return nil
	}
	missing = append(missing, missingDirs(env.SupportDir)...)
	if err := os.MkdirAll(env.SupportDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", env.SupportDir, err)
	}
	f, err := os.OpenFile(env.createdFile(), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("record created folders: %w", err)
	}
	defer f.Close()
	for _, d := range missing {
		fmt.Fprintln(f, d)
	}
	return nil
}

// missingDirs lists dir and its ancestors that do not exist yet.
func missingDirs(dir string) []string {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	return missing
}

// Uninstall turns every toggle off (coredump-off only when it is on or its
// LaunchDaemon is there, as it asks for a password) and removes the folders
// Forkwatch created, if they are empty, after removing ownDirs (the app's
// state and log folders) whole. It writes what it did to w.
func Uninstall(ctx context.Context, env Env, w io.Writer, ownDirs ...string) error {
	var errs []error
	for _, t := range All(env) {
		if env.Supported(t.Name()) != nil {
			fmt.Fprintf(w, "%s: macOS only, nothing to undo\n", t.Name())
			continue
		}
		if c, ok := t.(*Coredump); ok {
			st := c.State(ctx)
			if _, daemon, _ := readJob(c.daemonPath()); !st.On && !daemon {
				fmt.Fprintf(w, "%s: already off\n", t.Name())
				continue
			}
		}
		if _, err := SetAndVerify(ctx, t, false); err != nil {
			errs = append(errs, err)
			fmt.Fprintf(w, "%s: %v\n", t.Name(), err)
			continue
		}
		fmt.Fprintf(w, "%s: off\n", t.Name())
	}
	var dirs []string
	if p := env.createdFile(); p != "" {
		if f, err := os.Open(p); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if d := strings.TrimSpace(sc.Text()); d != "" {
					dirs = append(dirs, d)
				}
			}
			f.Close()
		}
	}
	for _, d := range ownDirs {
		if _, err := os.Stat(d); err != nil {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(w, "removed %s\n", d)
		}
	}
	// Deepest first, so parents empty out.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		if err := os.Remove(d); err == nil {
			fmt.Fprintf(w, "removed %s\n", d)
		} else if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(w, "kept %s (not empty)\n", d)
		}
	}
	return errors.Join(errs...)
}

// MkdirRecorded creates dir (and its missing parents) the way toggles do,
// recording what it created for Uninstall.
func (env Env) MkdirRecorded(dir string) error { return env.mkdirAll(dir) }
