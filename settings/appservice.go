package settings

import (
	"errors"
	"fmt"
	"strings"
)

// The login item on macOS 13 and later is the app itself registered with
// ServiceManagement's SMAppService (developer.apple.com/documentation/
// servicemanagement/smappservice): +[SMAppService mainAppService] ("an app
// service object that corresponds to the main application as a login item"),
// -registerAndReturnError: ("If the service corresponds to the main
// application, the application launches on subsequent logins"),
// -unregisterAndReturnError: ("it continues running, but becomes
// unregistered to prevent future launches at login. If the service is
// already unregistered, this method returns kSMErrorJobNotFound") and
// -status. Registered so, Forkwatch is listed under System Settings →
// General → Login Items → "Open at Login" with its name and icon, where a
// LaunchAgent written by the app shows as a background item with a
// "Background Items Added" notice. macOS 12 has no SMAppService and keeps
// the LaunchAgent.
//
// AppService is that object seen from Go: the darwin build calls it through
// purego (appservice_darwin.go); tests give a fake that keeps the documented
// states.
type AppService interface {
	Register() error
	Unregister() error
	Status() (ServiceStatus, error)
}

// ServiceStatus is SMAppServiceStatus, an NSInteger: 0 notRegistered,
// 1 enabled, 2 requiresApproval, 3 notFound (SMAppService.h, as mirrored in
// objc2-service-management's generated SMAppService.rs; Apple's
// SMAppService.Status pages for the meanings quoted below).
type ServiceStatus int

const (
	// ServiceNotRegistered: not registered (never, or unregistered).
	ServiceNotRegistered ServiceStatus = 0
	// ServiceEnabled: registered and eligible to run at login.
	ServiceEnabled ServiceStatus = 1
	// ServiceRequiresApproval: "The service has been successfully
	// registered, but the user needs to take action in System
	// Preferences"; also returned "if the user revokes consent for the
	// service to run in System Settings".
	ServiceRequiresApproval ServiceStatus = 2
	// ServiceNotFound: "An error occurred and the framework couldn't find
	// this service."
	ServiceNotFound ServiceStatus = 3
)

func (s ServiceStatus) String() string {
	switch s {
	case ServiceNotRegistered:
		return "not registered"
	case ServiceEnabled:
		return "enabled"
	case ServiceRequiresApproval:
		return "requires approval"
	case ServiceNotFound:
		return "not found"
	}
	return fmt.Sprintf("unknown status %d", int(s))
}

// ServiceManagement error codes (SMErrors.h; Apple, "Service Management
// Errors": kSMErrorJobNotFound "The system can't find the specified job",
// kSMErrorAlreadyRegistered "The application is already registered",
// kSMErrorLaunchDeniedByUser "The user denied the app's launch request").
const (
	smErrorInternalFailure    = 2
	smErrorJobNotFound        = 6
	smErrorLaunchDeniedByUser = 11
	smErrorAlreadyRegistered  = 12
)

// ServiceError is an NSError from ServiceManagement: its code and text.
type ServiceError struct {
	Domain string
	Code   int
	Text   string
}

func (e *ServiceError) Error() string {
	return fmt.Sprintf("%s (%s %d)", e.Text, e.Domain, e.Code)
}

// isSMCode reports whether err is a ServiceManagement error with code.
func isSMCode(err error, code int) bool {
	var se *ServiceError
	return errors.As(err, &se) && se.Code == code
}

// ErrTranslocated is returned when Forkwatch runs from a translocated copy:
// Gatekeeper runs a quarantined app that was not moved by the user from a
// random read-only path under /private/var/folders/.../AppTranslocation/
// (Apple, "Gatekeeper and runtime protection in macOS"; the path changes
// from launch to launch), so a login item or LaunchAgent registered there
// would start nothing next time.
var ErrTranslocated = errors.New("this copy of Forkwatch runs from a temporary location that macOS made because it was opened where it was downloaded; move Forkwatch to the Applications folder, open it from there, and turn this on again")

// translocated reports whether exe is inside an App Translocation mount.
func translocated(exe string) bool {
	return strings.Contains(exe, "/AppTranslocation/")
}

// appService returns the login-item service for env: env.LoginService when
// set (tests), else the system's (nil on macOS 12 and off macOS).
func (env Env) appService() AppService {
	if env.LoginService != nil {
		return env.LoginService
	}
	if env.GOOS != "darwin" {
		return nil
	}
	return systemAppService()
}
