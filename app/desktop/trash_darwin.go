//go:build darwin

package desktop

// Moving a file to the Trash through Foundation, with purego (no cgo, so
// the cgo-less darwin vet checks this file):
// -[NSFileManager trashItemAtURL:resultingItemURL:error:] (macOS 10.8+,
// "Moves an item to the trash") sends no Apple Event, so it needs neither
// the com.apple.security.automation.apple-events entitlement nor an
// NSAppleEventsUsageDescription under the hardened runtime, where telling
// Finder to delete fails with -1743 (errAEEventNotPermitted; see
// docs/macos.md). It does not keep Finder's Put Back (TrashNote).

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/ebitengine/purego/objc"
)

const foundationPath = "/System/Library/Frameworks/Foundation.framework/Foundation"

// foundationErr is the outcome of loading Foundation in init: package
// initialisation runs on the main OS thread, where Foundation's first load
// expects to run (as app/notify/native_darwin.go explains).
var foundationErr error

func init() {
	_, foundationErr = purego.Dlopen(foundationPath, purego.RTLD_GLOBAL|purego.RTLD_NOW)
}

// platformTrash is the Foundation trash.
func platformTrash() trashOne { return foundationTrash }

func foundationTrash(path string) (string, error) {
	if foundationErr != nil {
		return "", fmt.Errorf("move %s to the Trash: load Foundation: %w", path, foundationErr)
	}
	var ok bool
	var resulting, reason string
	withPool(func() {
		fm := objc.ID(objc.GetClass("NSFileManager")).Send(objc.RegisterName("defaultManager"))
		url := objc.ID(objc.GetClass("NSURL")).Send(objc.RegisterName("fileURLWithPath:"), nsString(path))
		var res, nserr objc.ID
		ok = objc.Send[bool](fm, objc.RegisterName("trashItemAtURL:resultingItemURL:error:"), url, unsafe.Pointer(&res), unsafe.Pointer(&nserr))
		if res != 0 {
			resulting = goString(res.Send(objc.RegisterName("path")))
		}
		if !ok && nserr != 0 {
			reason = goString(nserr.Send(objc.RegisterName("localizedDescription")))
		}
	})
	return trashOutcome(path, ok, resulting, reason)
}

// withPool runs f on one OS thread inside an autorelease pool (pools are
// per thread), so what f makes is freed at the end.
func withPool(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pool := objc.ID(objc.GetClass("NSAutoreleasePool")).Send(objc.RegisterName("new"))
	defer pool.Send(objc.RegisterName("drain"))
	f()
}

// nsString makes an autoreleased NSString of s (NUL bytes dropped, which
// no path holds).
func nsString(s string) objc.ID {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	return objc.ID(objc.GetClass("NSString")).Send(objc.RegisterName("stringWithUTF8String:"), s)
}

func goString(id objc.ID) string {
	if id == 0 {
		return ""
	}
	return objc.Send[string](id, objc.RegisterName("UTF8String"))
}
