//go:build !darwin && !linux

package attribute

// newProcReader has no implementation on this system: every parent counts
// as gone, so reports get no attribution rather than a guess.
func newProcReader() procReader {
	return func(int) (*liveProc, error) { return nil, errNoProc }
}
