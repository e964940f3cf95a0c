package desktop

import (
	"context"
	"errors"
	"fmt"
)

// TrashNote is what the menu's confirmation says about the Trash on macOS:
// Forkwatch moves files there through Foundation, which sends no Apple
// Event to Finder but does not record where a file came from, so Finder's
// "Put Back" is not offered for it (FB5712894, feedback-assistant/reports#28;
// only Finder's own delete, an Apple Event, keeps it). Empty elsewhere.
func TrashNote(goos string) string {
	if goos == "darwin" {
		return "Finder's Put Back is not offered for them: to restore one, drag it out of the Trash."
	}
	return ""
}

// trashOne moves one file to the Trash and returns its path there ("" when
// the system did not say).
type trashOne func(path string) (inTrash string, err error)

// trashAll moves each path to the Trash with one, going on after a failure;
// the error names every path that was not moved.
func trashAll(ctx context.Context, one trashOne, paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("move %s to the Trash: %w", p, err))
			continue
		}
		if _, err := one(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errNoReason stands for a failure Foundation gave no NSError for.
var errNoReason = errors.New("no reason given by Foundation")

// trashOutcome turns what -[NSFileManager trashItemAtURL:resultingItemURL:error:]
// gave back into Go: ok is its BOOL ("YES if the item was moved to the
// trash successfully or the file manager doesn't support moving items to
// the trash; otherwise, NO", Apple), resulting the -path of the
// resultingItemURL out-parameter (the name in the Trash may differ: a
// second "core.42" becomes "core.42 2"), reason the NSError's
// -localizedDescription when NO.
func trashOutcome(path string, ok bool, resulting, reason string) (string, error) {
	if !ok {
		if reason == "" {
			return "", fmt.Errorf("move %s to the Trash: %w", path, errNoReason)
		}
		return "", fmt.Errorf("move %s to the Trash: %s", path, reason)
	}
	return resulting, nil
}
