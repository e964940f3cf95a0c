package appinfo

import (
	"regexp"
	"runtime/debug"
)

// Version is the version --version prints: stamped, the one `make` or the
// bundler set (-ldflags "-X main.version=...", kept in package main because
// that is the name the build tools stamp), when it is set; otherwise what
// the Go toolchain recorded in the binary, so that `go build ./app` and
// `go install ...@vX` never claim to be "dev".
func Version(stamped string) string {
	if stamped != "dev" && stamped != "" {
		return stamped
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return stamped
	}
	return FromBuildInfo(bi)
}

// reRelease is a plain semantic version (v1.2.3, v1.2.3-rc.1), as opposed to
// a pseudo-version (v0.0.0-20260101120000-abcdef123456) or one carrying
// build metadata (+dirty), which Go 1.24+ derives from a local checkout.
var (
	reRelease = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	rePseudo  = regexp.MustCompile(`\d{14}-[0-9a-f]{12}$`)
)

// FromBuildInfo picks, in order: a release version of the main module
// (`go install github.com/forkwatch/forkwatch/app@v1.2.3`); the VCS revision
// of a local build, shortened, with "-dirty" when the tree had changes
// (`go build ./app` in a checkout: runtime/debug records vcs.revision and
// vcs.modified, see https://pkg.go.dev/runtime/debug#BuildSetting); any
// other module version (a pseudo-version from `go install ...@main`); and
// "dev" when the binary records none of these (-buildvcs=false outside a module).
func FromBuildInfo(bi *debug.BuildInfo) string {
	mv := bi.Main.Version
	if reRelease.MatchString(mv) && !rePseudo.MatchString(mv) {
		return mv
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		return rev
	}
	if mv != "" && mv != "(devel)" {
		return mv
	}
	return "dev"
}
