package monitor

import (
	"fmt"
	"strings"
	"time"
)

// A file in a report folder that is not a crash report Forkwatch can read
// (garbage, too large, a FIFO or symlink, an excerpt with nothing to
// classify) is reported once, then remembered in the Store by path under
// an id made of its size and modification time (BadID): the next start
// neither reads it nor reports it again, while a file changed since
// (same path, other size or time) is read afresh. Issue 32: a bad file
// was reported again at every start.

// badPrefix marks the ids of bad files among the Store's paths; no crash
// id has it (report ids are "incident:…", "PROC:PID:TIME" or "sha256:…").
const badPrefix = "bad:"

// BadID is the id a bad file is remembered by.
func BadID(size int64, mtime time.Time) string {
	return fmt.Sprintf("%s%d:%d", badPrefix, size, mtime.UnixNano())
}

// IsBadID says whether a Store path id is a bad file's.
func IsBadID(id string) bool { return strings.HasPrefix(id, badPrefix) }

// badPaths is the optional Store method listing the bad files it
// remembers, path to BadID, for the sweep to tell a changed one.
type badPaths interface{ BadPaths() map[string]string }
