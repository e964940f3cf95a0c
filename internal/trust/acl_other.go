//go:build !darwin

package trust

// extendedACL: the extended (NFSv4-style) ACLs of chmod +a are macOS's.
// Linux's POSIX ACLs show in the mode's group bits (the ACL mask), which
// ownerAndMode already reads.
func extendedACL(string) (string, error) { return "", nil }
