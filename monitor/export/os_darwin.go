package export

import "golang.org/x/sys/unix"

// osVersion is the macOS product version (15.5), from the sysctl
// kern.osproductversion (sysctl(3)).
func osVersion() string {
	v, err := unix.Sysctl("kern.osproductversion")
	if err != nil {
		return ""
	}
	return v
}
