//go:build !darwin

package settings

// systemAppService: there is no SMAppService off macOS (the login item is
// an XDG autostart entry, or a LaunchAgent when the macOS toggles are
// driven on Linux with FORKWATCH_PLATFORM=darwin, as on macOS 12).
func systemAppService() AppService { return nil }
