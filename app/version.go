package main

// appVersion is the version --version prints.
func appVersion() string { return version }
