package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
)

// notaryResult is what `xcrun notarytool submit --wait --output-format
// json` prints when the wait ends, e.g.
// {"id":"…","status":"Invalid","message":"Processing complete"}
// (electron/notarize#173 quotes this output). notarytool exits 0 whatever
// the status, so the status decides, not the exit code (same issue).
type notaryResult struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// reSubmissionID is a notary submission id (a UUID); only such an id is
// passed on to `notarytool log`.
var reSubmissionID = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// checkNotary reads notarytool's JSON result. It returns the submission id
// whenever there is one (so that the workflow can fetch `notarytool log`
// for it) and an error unless Apple's status is exactly "Accepted"
// ("In Progress" after a --timeout, "Invalid", "Rejected" all fail).
func checkNotary(data []byte) (string, error) {
	var r notaryResult
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("notarytool output is not JSON: %w", err)
	}
	id := ""
	if reSubmissionID.MatchString(r.ID) {
		id = r.ID
	}
	switch {
	case r.Status == "Accepted" && id != "":
		return id, nil
	case r.Status == "Accepted":
		return "", fmt.Errorf("notarytool says Accepted but gives no submission id (%q)", r.ID)
	case r.Status == "":
		return id, errors.New("notarytool output has no status")
	default:
		return id, fmt.Errorf("notarization status %q (%s), not Accepted", r.Status, r.Message)
	}
}

// runNotaryCheck is `go run ./build notary-check FILE`: prints the
// submission id and fails unless FILE (notarytool's JSON output) says
// Accepted.
func runNotaryCheck(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: go run ./build notary-check NOTARYTOOL-OUTPUT.json")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return fmt.Errorf("read notarytool output: %w", err)
	}
	id, err := checkNotary(data)
	if id != "" {
		fmt.Println(id)
	}
	return err
}
