package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"howett.net/plist"
)

// launchdJob is the part of a launchd.plist(5) that Forkwatch writes:
// Label, ProgramArguments, RunAtLoad, and for GUI agents
// LimitLoadToSessionType Aqua (loaded only in a graphical login session).
type launchdJob struct {
	Label                  string   `plist:"Label"`
	ProgramArguments       []string `plist:"ProgramArguments"`
	RunAtLoad              bool     `plist:"RunAtLoad"`
	LimitLoadToSessionType string   `plist:"LimitLoadToSessionType,omitempty"`
	ProcessType            string   `plist:"ProcessType,omitempty"`
}

// encodeJob renders a job as an XML property list with howett.net/plist.
func encodeJob(j launchdJob) ([]byte, error) {
	var buf bytes.Buffer
	enc := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(j); err != nil {
		return nil, fmt.Errorf("encode %s plist: %w", j.Label, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// readJob reads a launchd plist; ok is false when the file does not exist.
func readJob(path string) (j launchdJob, ok bool, err error) {
	data, err := readDotfile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, false, nil
	}
	if err != nil {
		return j, false, err
	}
	if _, err := plist.Unmarshal(data, &j); err != nil {
		return j, true, fmt.Errorf("%s is not a valid property list: %w", path, err)
	}
	return j, true, nil
}

// writeJob writes a job plist atomically (0644, as launchd requires that
// agents not be writable by others).
func writeJob(env Env, path string, j launchdJob) error {
	data, err := encodeJob(j)
	if err != nil {
		return err
	}
	return env.editFile(path, 0o644, func(old []byte, existed bool) ([]byte, bool, error) {
		return data, false, nil
	})
}

// removeFile removes a file we created, if it is there.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
