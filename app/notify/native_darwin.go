//go:build darwin

package notify

// Native notifications through UNUserNotificationCenter, called with
// github.com/ebitengine/purego/objc (no cgo, so the cgo-less darwin vet
// checks this file). Only reached after the guard in native.go: in a
// bundle, and proven in a child process for this app version.
//
// Apple's API, as used here (developer.apple.com/documentation/usernotifications):
//   - +[UNUserNotificationCenter currentNotificationCenter]: needs an app
//     bundle, else NSInternalInconsistencyException (see bundleOf).
//   - -requestAuthorizationWithOptions:completionHandler: (macOS 10.14+): "The
//     block to execute asynchronously with the results. This block may execute
//     on a background thread." Options: Badge 1<<0, Sound 1<<1, Alert 1<<2
//     (UNAuthorizationOptions). The prompt is shown once per app.
//   - -getNotificationSettingsWithCompletionHandler:, -[UNNotificationSettings
//     authorizationStatus] (UNAuthorizationStatus: 0 not determined, 1 denied,
//     2 authorized, 3 provisional, 4 ephemeral).
//   - +[UNNotificationAction actionWithIdentifier:title:options:],
//     +[UNNotificationCategory categoryWithIdentifier:actions:intentIdentifiers:options:],
//     -setNotificationCategories: (an NSSet).
//   - UNUserNotificationCenterDelegate: -userNotificationCenter:didReceiveNotificationResponse:withCompletionHandler:
//     gets -[UNNotificationResponse actionIdentifier], which is one of our
//     action identifiers or UNNotificationDefaultActionIdentifier
//     ("com.apple.UNNotificationDefaultActionIdentifier": the user clicked the
//     notification) or UNNotificationDismissActionIdentifier; and
//     -userNotificationCenter:willPresentNotification:withCompletionHandler:
//     decides how a notification shows while the app is frontmost
//     (UNNotificationPresentationOptions: Sound 1<<1, List 1<<3, Banner 1<<4,
//     macOS 11+).
//
// Threading: the menu-bar app's main thread runs Cocoa's run loop (systray's
// [NSApp run]). UNUserNotificationCenter's completion handlers and delegate
// calls arrive on threads of its own queues, not necessarily the main thread,
// and purego runs our Go callbacks on whatever thread calls them. Our
// callbacks therefore only send on buffered channels or call the
// ActionHandler, whose contract is to hand work on and return; they never
// touch AppKit. Calls we make (from any goroutine) run inside an autorelease
// pool on a locked OS thread, since pools are per thread. The delegate is
// set once after launch, which is enough for notifications posted by this
// run; a click on a notification from an earlier run that launches the app
// is not handled (Forkwatch is already running as a login item).
//
// No hardened-runtime entitlement is needed for this: purego's callbacks are
// a fixed table of trampolines assembled into the binary (purego v0.11.3,
// syscall_unix.go: maxCB = 2000; zcallback_arm64.s), so nothing is written
// to executable memory (no com.apple.security.cs.allow-jit), and the
// frameworks dlopen'd are Apple's, signed by Apple, so library validation
// passes.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/ebitengine/purego/objc"
)

const (
	foundationPath        = "/System/Library/Frameworks/Foundation.framework/Foundation"
	userNotificationsPath = "/System/Library/Frameworks/UserNotifications.framework/UserNotifications"

	unDefaultAction = "com.apple.UNNotificationDefaultActionIdentifier"
	unDismissAction = "com.apple.UNNotificationDismissActionIdentifier"

	unAuthSound, unAuthAlert   = 1 << 1, 1 << 2
	unPresentSound, unPresList = 1 << 1, 1 << 3
	unPresentBanner            = 1 << 4
)

// platformNotifier on macOS: the native notifier, deciding in the
// background (Start) and delivering through beeep until it has.
func platformNotifier(ctx context.Context, cfg NativeConfig) ActionNotifier {
	n := newNativeNotifier(cfg)
	go n.Start(ctx)
	return n
}

// nativeBackendFunc opens the Objective-C side.
func nativeBackendFunc() func() (nativeBackend, error) {
	return func() (nativeBackend, error) { return newObjCBackend() }
}

// NewDesktopActionNotifier is the Linux D-Bus notifier; not on macOS.
func NewDesktopActionNotifier(ActionNotifier) (ActionNotifier, error) {
	return nil, errors.New("D-Bus notifications are for Linux desktops")
}

func sel(name string) objc.SEL { return objc.RegisterName(name) }

func class(name string) objc.ID { return objc.ID(objc.GetClass(name)) }

// delegateSeq makes each delegate class name unique (a class is registered
// once per backend, normally once per process).
var delegateSeq atomic.Int64

type objcBackend struct {
	center objc.ID
}

// frameworksErr is the outcome of loading Foundation and UserNotifications
// in init. Go runs package initialisation on the main goroutine locked to
// the main OS thread (runtime.main: "Lock the main goroutine onto this, the
// main OS thread, during initialization. Most programs won't care, but a
// few do require certain calls to be made by the main thread."), and
// Foundation's first load runs initialisers that expect the main thread;
// loading it later from whichever thread a goroutine is on does not.
var frameworksErr error

func init() {
	frameworksErr = loadFrameworks(func(p string) error {
		_, err := purego.Dlopen(p, purego.RTLD_GLOBAL|purego.RTLD_NOW)
		return err
	}, foundationPath, userNotificationsPath)
}

func newObjCBackend() (*objcBackend, error) {
	if frameworksErr != nil {
		return nil, frameworksErr
	}
	if objc.GetClass("UNUserNotificationCenter") == 0 {
		return nil, errors.New("UNUserNotificationCenter not found")
	}
	b := &objcBackend{}
	withPool(func() {
		b.center = class("UNUserNotificationCenter").Send(sel("currentNotificationCenter"))
		if b.center != 0 {
			b.center.Send(sel("retain"))
		}
	})
	if b.center == 0 {
		return nil, errors.New("no UNUserNotificationCenter for this process")
	}
	return b, nil
}

// withPool runs f on one OS thread inside an autorelease pool, so the
// autoreleased objects it makes (strings, arrays) are freed at the end.
func withPool(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pool := class("NSAutoreleasePool").Send(sel("new"))
	defer pool.Send(sel("drain"))
	f()
}

// nsString makes an autoreleased NSString; never nil (nil would raise in
// setters whose property is nonnull).
func nsString(s string) objc.ID {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	id := class("NSString").Send(sel("stringWithUTF8String:"), s)
	if id == 0 {
		id = class("NSString").Send(sel("string"))
	}
	return id
}

func goString(id objc.ID) string {
	if id == 0 {
		return ""
	}
	return objc.Send[string](id, sel("UTF8String"))
}

func nsErrorText(err objc.ID) error {
	if err == 0 {
		return nil
	}
	return errors.New(goString(err.Send(sel("localizedDescription"))))
}

// callBlock calls a block the system gave us (not one from objc.NewBlock):
// struct Block_layout { void *isa; int flags; int reserved; void (*invoke)(void *, ...); }
// (clang's Block ABI, https://clang.llvm.org/docs/Block-ABI-Apple.html):
// invoke sits at offset 16 on 64-bit and takes the block first.
func callBlock(b objc.Block, args ...uintptr) {
	if b == 0 {
		return
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(&b))
	invoke := *(*uintptr)(unsafe.Add(p, 16))
	if invoke == 0 {
		return
	}
	purego.SyscallN(invoke, append([]uintptr{uintptr(b)}, args...)...)
}

func (b *objcBackend) Status(ctx context.Context) (authStatus, error) {
	done := make(chan authStatus, 1)
	blk := objc.NewBlock(func(_ objc.Block, settings objc.ID) {
		st := authNotDetermined
		if settings != 0 {
			st = authStatus(objc.Send[int64](settings, sel("authorizationStatus")))
		}
		select {
		case done <- st:
		default:
		}
	})
	defer blk.Release()
	withPool(func() { b.center.Send(sel("getNotificationSettingsWithCompletionHandler:"), blk) })
	select {
	case st := <-done:
		return st, nil
	case <-ctx.Done():
		return authNotDetermined, fmt.Errorf("notification settings: %w", ctx.Err())
	}
}

func (b *objcBackend) Request(ctx context.Context) (bool, error) {
	type answer struct {
		granted bool
		err     error
	}
	done := make(chan answer, 1)
	blk := objc.NewBlock(func(_ objc.Block, granted bool, err objc.ID) {
		select {
		case done <- answer{granted, nsErrorText(err)}:
		default:
		}
	})
	defer blk.Release()
	withPool(func() {
		b.center.Send(sel("requestAuthorizationWithOptions:completionHandler:"), uint64(unAuthAlert|unAuthSound), blk)
	})
	select {
	case a := <-done:
		if a.err != nil {
			return false, fmt.Errorf("request notification permission: %w", a.err)
		}
		return a.granted, nil
	case <-ctx.Done():
		return false, fmt.Errorf("request notification permission: %w", ctx.Err())
	}
}

// categoryID names the category (the set of buttons) for a notification.
func categoryID(n Notification) string {
	var ids []string
	for _, a := range actionsFor(n) {
		ids = append(ids, a[0])
	}
	return "forkwatch." + strings.Join(ids, "+")
}

func (b *objcBackend) Setup(onResponse func(id, action string)) error {
	var err error
	withPool(func() {
		// One category per combination of buttons.
		cats := class("NSMutableArray").Send(sel("array"))
		for _, n := range []Notification{
			{ReportPath: "r", Fix: "f"}, {ReportPath: "r"}, {Fix: "f"}, {},
		} {
			actions := class("NSMutableArray").Send(sel("array"))
			for _, a := range actionsFor(n) {
				act := class("UNNotificationAction").Send(sel("actionWithIdentifier:title:options:"), nsString(a[0]), nsString(a[1]), uint64(0))
				if act == 0 {
					err = fmt.Errorf("UNNotificationAction %s: nil", a[0])
					return
				}
				actions.Send(sel("addObject:"), act)
			}
			cat := class("UNNotificationCategory").Send(sel("categoryWithIdentifier:actions:intentIdentifiers:options:"),
				nsString(categoryID(n)), actions, class("NSArray").Send(sel("array")), uint64(0))
			if cat == 0 {
				err = fmt.Errorf("UNNotificationCategory %s: nil", categoryID(n))
				return
			}
			cats.Send(sel("addObject:"), cat)
		}
		b.center.Send(sel("setNotificationCategories:"), class("NSSet").Send(sel("setWithArray:"), cats))

		var protocols []*objc.Protocol
		if p := objc.GetProtocol("UNUserNotificationCenterDelegate"); p != nil {
			protocols = append(protocols, p)
		}
		name := fmt.Sprintf("ForkwatchNotificationDelegate%d", delegateSeq.Add(1))
		cls, rerr := objc.RegisterClass(name, objc.GetClass("NSObject"), protocols, nil, []objc.MethodDef{
			{
				Cmd: sel("userNotificationCenter:didReceiveNotificationResponse:withCompletionHandler:"),
				Fn: func(_ objc.ID, _ objc.SEL, _ objc.ID, response objc.ID, handler objc.Block) {
					defer callBlock(handler)
					if response == 0 {
						return
					}
					action := goString(response.Send(sel("actionIdentifier")))
					id := goString(response.Send(sel("notification")).Send(sel("request")).Send(sel("identifier")))
					switch action {
					case unDismissAction:
						return
					case unDefaultAction:
						action = ActionDefault
					}
					go onResponse(id, action)
				},
			},
			{
				Cmd: sel("userNotificationCenter:willPresentNotification:withCompletionHandler:"),
				Fn: func(_ objc.ID, _ objc.SEL, _ objc.ID, _ objc.ID, handler objc.Block) {
					callBlock(handler, uintptr(unPresentBanner|unPresList|unPresentSound))
				},
			},
		})
		if rerr != nil {
			err = fmt.Errorf("register notification delegate: %w", rerr)
			return
		}
		// The center holds its delegate weakly: this one is never released.
		delegate := objc.ID(cls).Send(sel("new"))
		b.center.Send(sel("setDelegate:"), delegate)
	})
	return err
}

func (b *objcBackend) Post(ctx context.Context, id string, n Notification) error {
	done := make(chan error, 1)
	blk := objc.NewBlock(func(_ objc.Block, err objc.ID) {
		select {
		case done <- nsErrorText(err):
		default:
		}
	})
	defer blk.Release()
	var err error
	withPool(func() {
		content := class("UNMutableNotificationContent").Send(sel("new"))
		if content == 0 {
			err = errors.New("UNMutableNotificationContent: nil")
			return
		}
		defer content.Send(sel("release"))
		content.Send(sel("setTitle:"), nsString(n.Title))
		content.Send(sel("setBody:"), nsString(n.Body))
		content.Send(sel("setCategoryIdentifier:"), nsString(categoryID(n)))
		req := class("UNNotificationRequest").Send(sel("requestWithIdentifier:content:trigger:"), nsString(id), content, objc.ID(0))
		if req == 0 {
			err = errors.New("UNNotificationRequest: nil")
			return
		}
		b.center.Send(sel("addNotificationRequest:withCompletionHandler:"), req, blk)
	})
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("post notification: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("post notification: %w", ctx.Err())
	}
}
