package settings

import (
	"errors"
	"fmt"
)

// ErrMacOnly means a toggle exists only on macOS: kern.coredump is a macOS
// sysctl and launchd's environment (launchctl setenv) has no Linux
// counterpart. On other systems `status` says so, and `set` and
// `uninstall` refuse such a toggle before touching anything.
var ErrMacOnly = errors.New("macOS only")

// MacOnly reports whether the toggle called name exists only on macOS.
func MacOnly(name string) bool { return name == CoredumpOff || name == ForkSafetyOff }

// Supported returns nil when the toggle called name can be used on
// env.GOOS, else an error wrapping ErrMacOnly that says why.
func (env Env) Supported(name string) error {
	if env.GOOS == "darwin" || !MacOnly(name) {
		return nil
	}
	what := "kern.coredump is a macOS sysctl"
	if name == ForkSafetyOff {
		what = "OBJC_DISABLE_INITIALIZE_FORK_SAFETY acts only on macOS's Objective-C runtime, set through launchd"
	}
	return fmt.Errorf("%s is %w (%s); on %s there is nothing to change", name, ErrMacOnly, what, env.GOOS)
}

// Available returns the toggles that exist on env.GOOS, in menu order.
func Available(env Env) []Toggle {
	var out []Toggle
	for _, t := range All(env) {
		if env.Supported(t.Name()) == nil {
			out = append(out, t)
		}
	}
	return out
}
