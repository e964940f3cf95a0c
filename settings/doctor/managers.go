package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/forkwatch/forkwatch/internal/interp"
)

// Managers are the folders of the Python version managers, each as the
// manager configures it (its environment variable, else its documented
// default). The doctor lists the interpreters they installed and names them
// as their origin:
//
//   - pyenv: $PYENV_ROOT (default ~/.pyenv; `pyenv root` prints it),
//     versions in versions/*/bin (https://github.com/pyenv/pyenv#environment-variables).
//   - asdf: $ASDF_DATA_DIR (default ~/.asdf), installs/python/*/bin
//     (https://asdf-vm.com/manage/configuration.html#environment-variables).
//   - mise: $MISE_DATA_DIR (default $XDG_DATA_HOME/mise, ~/.local/share/mise),
//     installs/python/*/bin (mise-util src/dirs.rs, MISE_INSTALLS_DIR).
//   - rye: $RYE_HOME (default ~/.rye), toolchains in py/*/bin, and
//     py/*/install/bin before rye 0.31 (frostming/findpython#25).
//   - pdm: `pdm python install` into python.install_root, default
//     <data dir>/pdm/python/*/bin (https://pdm-project.org/en/latest/reference/configuration/).
//   - hatch: `hatch python install` into <data dir>/hatch/pythons/NAME, the
//     interpreter in python/bin (https://hatch.pypa.io/latest/tutorials/python/manage).
//
// <data dir> is $XDG_DATA_HOME or ~/.local/share, and on macOS also
// ~/Library/Application Support (platformdirs' user_data_dir, which pdm and
// hatch use).
type Managers struct {
	PyenvRoot, AsdfDataDir, MiseDataDir, RyeHome string
	// DataDirs are the user data folders pdm and hatch install under.
	DataDirs []string
}

// Origins of the version managers beyond pyenv and uv.
const (
	OriginAsdf  = "asdf"
	OriginMise  = "mise"
	OriginRye   = "rye"
	OriginPdm   = "pdm"
	OriginHatch = "hatch"
)

// defaultManagers reads the managers' variables from getenv, with their
// defaults under home. When PYENV_ROOT is unset but a pyenv is on PATH,
// `pyenv root` (2 s limit) says where it keeps its versions.
func defaultManagers(ctx context.Context, home, goos string, getenv func(string) string) Managers {
	or := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	data := or(getenv("XDG_DATA_HOME"), filepath.Join(home, ".local", "share"))
	m := Managers{
		PyenvRoot:   getenv("PYENV_ROOT"),
		AsdfDataDir: or(getenv("ASDF_DATA_DIR"), filepath.Join(home, ".asdf")),
		MiseDataDir: or(getenv("MISE_DATA_DIR"), filepath.Join(data, "mise")),
		RyeHome:     or(getenv("RYE_HOME"), filepath.Join(home, ".rye")),
		DataDirs:    []string{data},
	}
	if goos == "darwin" {
		m.DataDirs = append(m.DataDirs, filepath.Join(home, "Library", "Application Support"))
	}
	if m.PyenvRoot == "" {
		// pyenv is a script on PATH: it runs through interp (ownership
		// check, private working folder) like an interpreter.
		if p, err := exec.LookPath("pyenv"); err == nil {
			if out, _, err := interp.Run(ctx, 2*time.Second, interp.Spec{Lang: interp.Program, Path: p, Args: []string{"root"}, UID: os.Getuid()}); err == nil {
				if r := strings.TrimSpace(out); filepath.IsAbs(r) {
					m.PyenvRoot = r
				}
			}
		}
	}
	if m.PyenvRoot == "" {
		m.PyenvRoot = filepath.Join(home, ".pyenv")
	}
	return m
}

// binGlobs are the patterns of the folders holding the managers'
// interpreters.
func (m Managers) binGlobs() []string {
	var g []string
	add := func(root string, parts ...string) {
		if root != "" {
			g = append(g, filepath.Join(append([]string{root}, parts...)...))
		}
	}
	add(m.PyenvRoot, "versions", "*", "bin")
	add(m.AsdfDataDir, "installs", "python", "*", "bin")
	add(m.MiseDataDir, "installs", "python", "*", "bin")
	add(m.RyeHome, "py", "*", "bin")
	add(m.RyeHome, "py", "*", "install", "bin")
	for _, d := range m.DataDirs {
		add(d, "pdm", "python", "*", "bin")
		add(d, "hatch", "pythons", "*", "python", "bin")
	}
	return g
}

// originOf names the manager that installed p, or "".
func (m Managers) originOf(p string) string {
	under := func(root string, parts ...string) bool {
		if root == "" {
			return false
		}
		return strings.HasPrefix(p, filepath.Join(append([]string{root}, parts...)...)+string(filepath.Separator))
	}
	switch {
	case under(m.PyenvRoot, "versions"), under(m.PyenvRoot, "shims"):
		return OriginPyenv
	case under(m.AsdfDataDir, "installs", "python"), under(m.AsdfDataDir, "shims"):
		return OriginAsdf
	case under(m.MiseDataDir, "installs", "python"), under(m.MiseDataDir, "shims"):
		return OriginMise
	case under(m.RyeHome, "py"), under(m.RyeHome, "shims"):
		return OriginRye
	}
	for _, d := range m.DataDirs {
		switch {
		case under(d, "pdm", "python"):
			return OriginPdm
		case under(d, "hatch", "pythons"):
			return OriginHatch
		}
	}
	return ""
}

// defaultManagersHere is defaultManagers for this process.
func defaultManagersHere(home string) Managers {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return defaultManagers(ctx, home, runtime.GOOS, os.Getenv)
}
