package settings

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// fakeAppService behaves as +[SMAppService mainAppService] is documented
// to (developer.apple.com/documentation/servicemanagement/smappservice):
//   - status starts notRegistered; register() makes it enabled ("the
//     application launches on subsequent logins");
//   - requiresApproval: "successfully registered, but the user needs to take
//     action in System Settings"; "also returns this status if the user
//     revokes consent for the service to run in System Settings" (revoked);
//   - notFound: "An error occurred and the framework couldn't find this
//     service" (missing: a register fails too);
//   - unregister() of an unregistered service "returns kSMErrorJobNotFound";
//   - register() of a registered one returns kSMErrorAlreadyRegistered ("The
//     application is already registered"), which the caller must take as
//     done (whether the real call returns it for the main app is not
//     documented; accepting it is safe either way).
type fakeAppService struct {
	status    ServiceStatus
	revoked   bool // the user switched Forkwatch off under Login Items
	missing   bool // notFound
	registers int
}

func (f *fakeAppService) Register() error {
	f.registers++
	switch {
	case f.missing:
		return &ServiceError{Domain: "SMAppServiceErrorDomain", Code: smErrorInternalFailure, Text: "Operation not permitted"}
	case f.status == ServiceEnabled:
		return &ServiceError{Domain: "SMAppServiceErrorDomain", Code: smErrorAlreadyRegistered, Text: "The application is already registered."}
	case f.revoked:
		f.status = ServiceRequiresApproval
	default:
		f.status = ServiceEnabled
	}
	return nil
}

func (f *fakeAppService) Unregister() error {
	if f.missing || f.status == ServiceNotRegistered {
		return &ServiceError{Domain: "SMAppServiceErrorDomain", Code: smErrorJobNotFound, Text: "The system can't find the specified job."}
	}
	f.status = ServiceNotRegistered
	return nil
}

func (f *fakeAppService) Status() (ServiceStatus, error) {
	if f.missing {
		return ServiceNotFound, nil
	}
	return f.status, nil
}

// TestLoginItemSMAppService: on macOS 13+ turning the login item on
// registers the main app, reads the state back from SMAppService, and
// removes the LaunchAgent an earlier version wrote (unloading it), so that
// Forkwatch is started once, from "Open at Login"; off unregisters, and
// off again is not an error (kSMErrorJobNotFound).
func TestLoginItemSMAppService(t *testing.T) {
	fsys := newFakeSystem(t, "darwin")
	svc := &fakeAppService{}
	fsys.env.LoginService = svc
	// An earlier version's LaunchAgent, loaded.
	old := &Login{Env: fsys.env}
	if err := writeJob(fsys.env, old.agentPath(), old.job()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(fsys.state+"/loaded."+loginLabel, nil, 0o644)

	l := &Login{Env: fsys.env}
	if st := l.State(ctx); st.On || len(st.Conflicts) != 1 || !strings.Contains(st.Conflicts[0], "LaunchAgent") {
		t.Errorf("before: %+v (the old agent must show as a conflict)", st)
	}
	st, err := SetAndVerify(ctx, l, true)
	if err != nil {
		t.Fatal(err)
	}
	if svc.status != ServiceEnabled || !strings.Contains(st.Detail, "Open at Login") || len(st.Conflicts) != 0 {
		t.Errorf("on: %+v, service %v", st, svc.status)
	}
	if _, err := os.Lstat(l.agentPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old LaunchAgent is still there: %v", err)
	}
	if !strings.Contains(fsys.log(t), "launchctl bootout gui/501/"+loginLabel) {
		t.Errorf("the old agent was not unloaded: %s", fsys.log(t))
	}
	if strings.Contains(fsys.log(t), "launchctl bootstrap") {
		t.Error("a LaunchAgent was loaded on macOS 13+")
	}
	// On again: already registered is done, not an error.
	if _, err := SetAndVerify(ctx, l, true); err != nil {
		t.Errorf("on twice: %v", err)
	}
	if _, err := SetAndVerify(ctx, l, false); err != nil || svc.status != ServiceNotRegistered {
		t.Fatalf("off: %v (%v)", err, svc.status)
	}
	if _, err := SetAndVerify(ctx, l, false); err != nil {
		t.Errorf("off twice (kSMErrorJobNotFound): %v", err)
	}
}

// TestLoginItemSMAppServiceStates: requiresApproval is not on, and says
// where the user approves it; notFound is an error, not "off".
func TestLoginItemSMAppServiceStates(t *testing.T) {
	fsys := newFakeSystem(t, "darwin")
	svc := &fakeAppService{revoked: true}
	fsys.env.LoginService = svc
	l := &Login{Env: fsys.env}
	st, err := SetAndVerify(ctx, l, true)
	if err == nil || st.On || !strings.Contains(st.Detail, "System Settings") || svc.status != ServiceRequiresApproval {
		t.Errorf("requires approval: %+v %v", st, err)
	}
	svc2 := &fakeAppService{missing: true}
	fsys.env.LoginService = svc2
	l = &Login{Env: fsys.env}
	if st := l.State(ctx); st.Error == "" || st.On {
		t.Errorf("notFound read as %+v", st)
	}
	if err := l.Set(ctx, true); err == nil || !strings.Contains(err.Error(), "register") {
		t.Errorf("register with notFound: %v", err)
	}
}

// TestLoginItemTranslocated: a copy run from an App Translocation path
// (Gatekeeper's random read-only mount for a quarantined app that was not
// moved) is never registered, neither with SMAppService nor as a
// LaunchAgent (macOS 12); the error tells the user to move Forkwatch to
// Applications; FixLoginItem does not point an agent at it.
func TestLoginItemTranslocated(t *testing.T) {
	exe := "/private/var/folders/x7/abc/T/AppTranslocation/6A1F3C1E-0D0B-4E7E-9F0A-1B2C3D4E5F60/d/Forkwatch.app/Contents/MacOS/forkwatch"
	for _, withService := range []bool{true, false} {
		fsys := newFakeSystem(t, "darwin")
		svc := &fakeAppService{}
		if withService {
			fsys.env.LoginService = svc
		}
		fsys.env.Exe = exe
		l := &Login{Env: fsys.env}
		err := l.Set(ctx, true)
		if !errors.Is(err, ErrTranslocated) || !strings.Contains(err.Error(), "Applications") {
			t.Errorf("service %v: %v", withService, err)
		}
		if svc.registers != 0 {
			t.Error("a translocated copy was registered")
		}
		if _, err := os.Lstat(l.agentPath()); err == nil {
			t.Error("a LaunchAgent was written for a translocated copy")
		}
		if st := l.State(ctx); withService && len(st.Conflicts) == 0 {
			t.Errorf("the menu does not say to move Forkwatch: %+v", st)
		}
	}
	// macOS 12: an agent from the real place is not rewritten to point at
	// the temporary copy.
	fsys := newFakeSystem(t, "darwin")
	l := &Login{Env: fsys.env}
	if _, err := SetAndVerify(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	moved := fsys.env
	moved.Exe = exe
	if fixed, err := FixLoginItem(moved); fixed || err != nil {
		t.Errorf("FixLoginItem from a translocated copy: %v %v", fixed, err)
	}
	if j, _, _ := readJob(l.agentPath()); j.ProgramArguments[0] != fsys.env.Exe {
		t.Errorf("agent now starts %v", j.ProgramArguments)
	}
}

// TestFixLoginItemMigrates: at start-up on macOS 13+, a LaunchAgent from an
// earlier version becomes an SMAppService registration and is removed.
func TestFixLoginItemMigrates(t *testing.T) {
	fsys := newFakeSystem(t, "darwin")
	l := &Login{Env: fsys.env} // macOS 12: the agent
	if _, err := SetAndVerify(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	svc := &fakeAppService{}
	fsys.env.LoginService = svc
	if fixed, err := FixLoginItem(fsys.env); !fixed || err != nil {
		t.Fatalf("migrate: %v %v", fixed, err)
	}
	if svc.status != ServiceEnabled {
		t.Errorf("not registered: %v", svc.status)
	}
	if _, err := os.Lstat(l.agentPath()); err == nil {
		t.Error("the LaunchAgent is still there")
	}
	if fixed, err := FixLoginItem(fsys.env); fixed || err != nil {
		t.Errorf("second start: %v %v", fixed, err)
	}
	// Nothing to migrate when the user never turned it on.
	fsys2 := newFakeSystem(t, "darwin")
	svc2 := &fakeAppService{}
	fsys2.env.LoginService = svc2
	if fixed, _ := FixLoginItem(fsys2.env); fixed || svc2.registers != 0 {
		t.Error("registered a login item the user never asked for")
	}
}

// TestUninstallUnregisters: uninstall turns the login item off through
// SMAppService.
func TestUninstallUnregisters(t *testing.T) {
	fsys := newFakeSystem(t, "darwin")
	svc := &fakeAppService{status: ServiceEnabled}
	fsys.env.LoginService = svc
	var out bytes.Buffer
	_ = Uninstall(context.Background(), fsys.env, &out)
	if svc.status != ServiceNotRegistered {
		t.Errorf("still registered after uninstall: %v\n%s", svc.status, out.String())
	}
	if !strings.Contains(out.String(), LoginItem+": off") {
		t.Errorf("uninstall output: %s", out.String())
	}
}
