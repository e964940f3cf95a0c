// Package desktop does what the menu's items and a notification's buttons
// ask of the system: open a report, show a folder, reveal a core file, ask
// before moving files to the Trash, copy a fix. macOS through open(1),
// osascript(1) and pbcopy(1); the Linux development desktop through
// xdg-open, gio, zenity and xclip. Guarded (guard.go) decides what a path
// taken from a crash report may be opened as.
package desktop

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/internal/syscmd"
)

// Desktop does what the menu's items ask of the system. Paths and text are
// always passed to commands as separate arguments, and to AppleScript as
// `on run argv` arguments, never pasted into script text.
type Desktop interface {
	OpenReport(ctx context.Context, path string) error
	// OpenFolder shows a folder (Open Project Folder): revealed in Finder
	// on macOS, never launched, so that a bundle cannot run.
	OpenFolder(ctx context.Context, path string) error
	Reveal(ctx context.Context, path string) error
	// Confirm asks a yes/no question; false on "no" or cancel.
	Confirm(ctx context.Context, question, yes string) (bool, error)
	Trash(ctx context.Context, paths []string) error
	Copy(ctx context.Context, text string) error
	OpenDocument(ctx context.Context, path string) error
}

// ErrNoTool means a desktop helper is not installed.
var ErrNoTool = errors.New("not available on this desktop")

// New is the desktop of goos ("darwin": macOS; anything else: the Linux
// tools).
func New(goos string) Desktop {
	if goos == "darwin" {
		return macDesktop{trash: platformTrash()}
	}
	return linuxDesktop{}
}

// macDesktop uses open(1), Foundation, osascript(1) and pbcopy(1). It
// sends no Apple Event to another app: under the hardened runtime that
// needs the com.apple.security.automation.apple-events entitlement, which
// the bundle does not have, and fails with -1743 without it (docs/macos.md).
type macDesktop struct {
	trash trashOne // Foundation's trashItemAtURL (trash_darwin.go); tests fake it
}

func (macDesktop) OpenReport(ctx context.Context, path string) error {
	_, err := syscmd.Run(ctx, 0, "open", "-a", "Console", path)
	return err
}

// OpenFolder reveals the folder in Finder (open -R: "Reveals the file(s)
// in the Finder instead of opening them", open(1)), so that even a folder
// macOS treats as a package is shown, never launched. The path is
// absolute (Guarded), so open cannot read it as an option.
func (macDesktop) OpenFolder(ctx context.Context, path string) error {
	_, err := syscmd.Run(ctx, 0, "open", "-R", path)
	return err
}

func (macDesktop) Reveal(ctx context.Context, path string) error {
	_, err := syscmd.Run(ctx, 0, "open", "-R", path)
	return err
}

func (macDesktop) OpenDocument(ctx context.Context, path string) error {
	_, err := syscmd.Run(ctx, 0, "open", path)
	return err
}

// confirmScript shows a dialog; its text and button come from argv.
// `display dialog` is a Standard Additions command that osascript runs
// itself, in its own process: no Apple Event goes to another application,
// so no Automation consent or entitlement is involved (the events that
// need them are those sent to another app, Apple Events Entitlement).
var confirmScript = []string{
	"-e", "on run argv",
	"-e", `display dialog (item 1 of argv) buttons {"Cancel", (item 2 of argv)} default button "Cancel" cancel button "Cancel" with icon caution with title "Forkwatch"`,
	"-e", "end run",
}

func (macDesktop) Confirm(ctx context.Context, question, yes string) (bool, error) {
	args := append(append([]string{}, confirmScript...), question, yes)
	_, err := syscmd.Run(ctx, 10*time.Minute, "osascript", args...)
	if err != nil {
		if strings.Contains(err.Error(), "-128") {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Trash moves each path to the Trash through Foundation, not Finder: no
// Apple Event, and no Put Back either (TrashNote).
func (d macDesktop) Trash(ctx context.Context, paths []string) error {
	one := d.trash
	if one == nil {
		one = platformTrash()
	}
	return trashAll(ctx, one, paths)
}

func (macDesktop) Copy(ctx context.Context, text string) error {
	return pipeTo(ctx, text, "pbcopy")
}

// linuxDesktop is the development platform's equivalent: xdg-open, gio,
// zenity and xclip where installed.
type linuxDesktop struct{}

func (linuxDesktop) OpenReport(ctx context.Context, path string) error {
	_, err := syscmd.Run(ctx, 0, "xdg-open", FileURL(path))
	return err
}

// OpenFolder hands xdg-open a file:// URL: xdg-open takes "a file or URL"
// and has options of its own (--help, --manual), so a bare name could be
// either; a URL with the file scheme is only ever a local file.
func (linuxDesktop) OpenFolder(ctx context.Context, path string) error {
	_, err := syscmd.Run(ctx, 0, "xdg-open", FileURL(path))
	return err
}

func (linuxDesktop) Reveal(ctx context.Context, path string) error {
	// gio can select the file in a file manager; fall back to its folder.
	if ok, err := have("gio"); err != nil {
		return err
	} else if ok {
		_, err := syscmd.Run(ctx, 0, "gio", "open", dirOf(path))
		return err
	}
	_, err := syscmd.Run(ctx, 0, "xdg-open", dirOf(path))
	return err
}

func (linuxDesktop) OpenDocument(ctx context.Context, path string) error {
	_, err := syscmd.Run(ctx, 0, "xdg-open", path)
	return err
}

func (linuxDesktop) Confirm(ctx context.Context, question, yes string) (bool, error) {
	if ok, err := have("zenity"); err != nil {
		return false, fmt.Errorf("confirm: %w", err)
	} else if !ok {
		return false, fmt.Errorf("confirm: zenity %w", ErrNoTool)
	}
	_, err := syscmd.Run(ctx, 10*time.Minute, "zenity", "--question", "--title=Forkwatch", "--ok-label="+yes, "--text="+question)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (linuxDesktop) Trash(ctx context.Context, paths []string) error {
	args := append([]string{"trash", "--"}, paths...)
	_, err := syscmd.Run(ctx, time.Minute, "gio", args...)
	return err
}

func (linuxDesktop) Copy(ctx context.Context, text string) error {
	for _, c := range [][]string{{"xclip", "-selection", "clipboard"}, {"wl-copy"}} {
		if ok, err := have(c[0]); err != nil {
			return fmt.Errorf("copy: %w", err)
		} else if ok {
			return pipeTo(ctx, text, c[0], c[1:]...)
		}
	}
	return fmt.Errorf("copy: xclip %w", ErrNoTool)
}

// have says whether a helper is installed, through the same ownership
// check syscmd.Run applies (syscmd.LookPath): a helper in a PATH folder
// others can write, or another uid's, is an error naming the folder, not
// a reason to try the next helper or to run it.
func have(name string) (bool, error) {
	_, err := syscmd.LookPath(name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, syscmd.ErrCommandMissing):
		return false, nil
	}
	return false, err
}

// pipeTo runs a helper found through syscmd.LookPath with text on its
// standard input.
func pipeTo(ctx context.Context, text, name string, args ...string) error {
	path, err := syscmd.LookPath(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return p
}

// FileManagerName is what "Reveal in …" calls the file manager.
func FileManagerName(goos string) string {
	if goos == "darwin" {
		return "Finder"
	}
	return "File Manager"
}
