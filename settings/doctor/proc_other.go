//go:build !unix

package doctor

import (
	"errors"
	"strconv"
)

func lowerCoreLimit() (func(), error) {
	return func() {}, errors.New("no RLIMIT_CORE on this system")
}

func writableDir(dir string) bool { return false }

func signalName(n int) string { return "signal " + strconv.Itoa(n) }
