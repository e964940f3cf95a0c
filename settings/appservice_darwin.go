//go:build darwin

package settings

// +[SMAppService mainAppService] through github.com/ebitengine/purego/objc,
// without cgo, like the notifications in app/notify_native_darwin.go.
// ServiceManagement.framework is loaded in init: Go runs package
// initialisation on the main OS thread, and the Foundation it pulls in
// expects its first load there (see app/notify_native_darwin.go).
//
// Calls (ServiceManagement/SMAppService.h, macOS 13+):
//   - +[SMAppService mainAppService] -> SMAppService*
//   - -[SMAppService registerAndReturnError:(NSError **)] -> BOOL
//   - -[SMAppService unregisterAndReturnError:(NSError **)] -> BOOL
//   - -[SMAppService status] -> SMAppServiceStatus (NSInteger)
//
// The class does not exist before macOS 13: objc_getClass returns nil and
// the LaunchAgent stays the login item (systemAppService returns nil).

import (
	"errors"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/ebitengine/purego/objc"
)

const serviceManagementPath = "/System/Library/Frameworks/ServiceManagement.framework/ServiceManagement"

// serviceManagementErr is the outcome of loading the framework in init.
var serviceManagementErr error

func init() {
	_, serviceManagementErr = purego.Dlopen(serviceManagementPath, purego.RTLD_GLOBAL|purego.RTLD_NOW)
}

func systemAppService() AppService {
	if serviceManagementErr != nil || objc.GetClass("SMAppService") == 0 {
		return nil // macOS 12 or older: the LaunchAgent
	}
	return smMainApp{}
}

type smMainApp struct{}

func smSel(name string) objc.SEL { return objc.RegisterName(name) }

// withSMPool runs f on one OS thread inside an autorelease pool (the
// service object and any NSError are autoreleased; pools are per thread).
func withSMPool(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pool := objc.ID(objc.GetClass("NSAutoreleasePool")).Send(smSel("new"))
	defer pool.Send(smSel("drain"))
	f()
}

func mainAppService() objc.ID {
	return objc.ID(objc.GetClass("SMAppService")).Send(smSel("mainAppService"))
}

func (smMainApp) call(selector string) error {
	var err error
	withSMPool(func() {
		svc := mainAppService()
		if svc == 0 {
			err = errors.New("+[SMAppService mainAppService] returned nil")
			return
		}
		var nserr objc.ID
		if objc.Send[bool](svc, smSel(selector), unsafe.Pointer(&nserr)) {
			return
		}
		err = serviceError(nserr)
	})
	return err
}

func (s smMainApp) Register() error   { return s.call("registerAndReturnError:") }
func (s smMainApp) Unregister() error { return s.call("unregisterAndReturnError:") }

func (smMainApp) Status() (ServiceStatus, error) {
	var st ServiceStatus
	var err error
	withSMPool(func() {
		svc := mainAppService()
		if svc == 0 {
			err = errors.New("+[SMAppService mainAppService] returned nil")
			return
		}
		st = ServiceStatus(objc.Send[int64](svc, smSel("status")))
	})
	return st, err
}

// serviceError reads an NSError: domain, code, localizedDescription.
func serviceError(e objc.ID) error {
	if e == 0 {
		return &ServiceError{Domain: "SMAppServiceErrorDomain", Code: smErrorInternalFailure, Text: "the call failed without an error"}
	}
	str := func(id objc.ID) string {
		if id == 0 {
			return ""
		}
		return objc.Send[string](id, smSel("UTF8String"))
	}
	return &ServiceError{
		Domain: str(e.Send(smSel("domain"))),
		Code:   int(objc.Send[int64](e, smSel("code"))),
		Text:   str(e.Send(smSel("localizedDescription"))),
	}
}
