package notify

import (
	"os"
	"path/filepath"
)

// NoSessionBus says why there is no desktop to notify on Linux, or returns
// "" when there is one (and always on macOS, whose notifications need no
// D-Bus). Without DBUS_SESSION_BUS_ADDRESS and without the per-user bus
// socket ($XDG_RUNTIME_DIR/bus), godbus "autolaunches" a session bus
// (`dbus-launch`), which leaves a `dbus-daemon --session` running after we
// exit (godbus conn.go, getSessionBusAddress(autolaunch=true), and
// dbus-launch(1): the daemon outlives its caller). So a notification is not
// even attempted there.
func NoSessionBus(goos string, getenv func(string) string, exists func(string) bool) string {
	if goos == "darwin" {
		return ""
	}
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return ""
	}
	if rt := getenv("XDG_RUNTIME_DIR"); rt != "" && exists(filepath.Join(rt, "bus")) {
		return ""
	}
	return "no desktop session to notify (DBUS_SESSION_BUS_ADDRESS is unset and there is no $XDG_RUNTIME_DIR/bus); run it inside a desktop session"
}

func FileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
