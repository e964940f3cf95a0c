// Command build makes Forkwatch's release outputs: the icons in assets/
// (`go run ./build icons`) and Forkwatch.app (`go run ./build app`), and
// checks a release on any platform (`go run ./build release-check`,
// `go run ./build release-dry-run -tag v1.2.3`).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./build icons|app|package|release-check|release-dry-run|verify-release|tag|notary-check [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "icons":
		err = writeIcons("assets")
	case "app":
		err = runApp(os.Args[2:])
	case "package":
		err = runPackage(os.Args[2:])
	case "release-check":
		err = runReleaseCheck(os.Args[2:])
	case "release-dry-run":
		err = runReleaseDryRun(os.Args[2:])
	case "verify-release":
		err = runVerifyRelease(os.Args[2:])
	case "tag":
		err = runTag(os.Args[2:])
	case "notary-check":
		err = runNotaryCheck(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "build: unknown step %q\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}
