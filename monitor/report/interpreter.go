package report

import (
	"path"
	"regexp"
	"strings"
)

// Interpreter origins, as Report.Interpreter names them. The install
// layouts are those each distribution documents: Homebrew's Cellar and
// prefix (/opt/homebrew, /usr/local), python.org's framework under
// /Library/Frameworks, pyenv's ~/.pyenv/versions/X, uv's managed Pythons
// under ~/.local/share/uv/python/cpython-X-..., conda/mamba prefixes and
// their envs/NAME, Apple's Command Line Tools Python3.framework (bundle id
// com.apple.python3), and the system Python 2 under /System and /usr/bin.
const (
	OriginHomebrew  = "homebrew"
	OriginPythonOrg = "python.org"
	OriginPyenv     = "pyenv"
	OriginUV        = "uv"
	OriginConda     = "conda"
	OriginCLT       = "clt"
	OriginSystem    = "system"
	OriginVenv      = "venv"
	OriginMacPorts  = "macports"
	OriginNix       = "nix"
)

var (
	reVersionDir   = regexp.MustCompile(`/Versions/(\d+\.\d+)/`)
	reCellarVer    = regexp.MustCompile(`/Cellar/python(?:@\d+\.\d+)?/(\d+\.\d+(?:\.\d+)?)`)
	rePyenvVer     = regexp.MustCompile(`/\.pyenv/versions/(\d+\.\d+(?:\.\d+)?)`)
	reUVVer        = regexp.MustCompile(`/cpython-(\d+\.\d+(?:\.\d+)?)`)
	rePythonBinVer = regexp.MustCompile(`(?:^|/)(?:lib)?python(\d+\.\d+)t?(?:\.dylib)?$`)
	reSOTag        = regexp.MustCompile(`\.cpython-(\d)(\d+)t?-darwin\.so$`)
	reLibPython    = regexp.MustCompile(`(?:^|/)libpython(\d+\.\d+)t?\.dylib$`)
	reFullVersion  = regexp.MustCompile(`^(\d+\.\d+(?:\.\d+)?)`)
)

// interpreterOf names where a Python came from and its version, from the
// executable's path, the bundle id and version, and the loaded images (the
// interpreter library shows the origin when the executable is a venv's).
func interpreterOf(exePath, bundleID, appVersion string, images []string) (origin, version string) {
	origin = originOf(exePath, bundleID)
	if origin == "" || origin == OriginVenv {
		// A venv's python is a copy or link of its base interpreter: the
		// library it loads tells where that came from.
		for _, im := range images {
			if strings.HasSuffix(im, "/Python") || isLibPython(im) {
				if o := originOf(im, ""); o != "" && o != OriginVenv {
					origin = o // the base interpreter; the venv is Report.Venv
					if version == "" {
						version = versionOf(im)
					}
					break
				}
			}
		}
	}
	if v := versionOf(exePath); len(v) > len(version) {
		version = v
	}
	if (bundleID == "org.python.python" || bundleID == "com.apple.python3") && appVersion != "" {
		if m := reFullVersion.FindString(appVersion); len(m) >= len(version) {
			version = m
		}
	}
	if version == "" {
		for _, im := range images {
			// Each expression runs only on the images that can match it
			// (isLibPython; reSOTag's fixed end).
			if !isLibPython(im) && !strings.HasSuffix(im, "-darwin.so") {
				continue
			}
			if m := reLibPython.FindStringSubmatch(im); m != nil {
				version = m[1]
				break
			}
			if m := reSOTag.FindStringSubmatch(im); m != nil {
				version = m[1] + "." + m[2]
				break
			}
		}
	}
	return origin, version
}

// originOf classifies one path (an executable or interpreter library).
func originOf(p, bundleID string) string {
	switch {
	case bundleID == "com.apple.python3" || strings.Contains(p, "/Python3.framework/") || strings.Contains(p, "/CommandLineTools/"):
		return OriginCLT
	case strings.Contains(p, "/.pyenv/"):
		return OriginPyenv
	case strings.Contains(p, "/uv/python/") || strings.Contains(p, "/uv/") && strings.Contains(p, "/cpython-") && reUVVer.MatchString(p):
		return OriginUV
	case strings.Contains(p, "conda") || strings.Contains(p, "mamba") || strings.Contains(p, "miniforge") || strings.Contains(p, "/envs/") && !strings.Contains(p, "/.pyenv/"):
		return OriginConda
	case strings.Contains(p, "/Cellar/") || strings.HasPrefix(p, "/opt/homebrew/") || strings.HasPrefix(p, "/usr/local/opt/") || strings.Contains(p, "/homebrew/"):
		return OriginHomebrew
	case strings.HasPrefix(p, "/opt/local/"):
		return OriginMacPorts
	case strings.HasPrefix(p, "/nix/store/"):
		return OriginNix
	case strings.HasPrefix(p, "/System/Library/Frameworks/Python.framework/") || strings.HasPrefix(p, "/usr/bin/python"):
		return OriginSystem
	case strings.HasPrefix(p, "/Library/Frameworks/Python.framework/"):
		return OriginPythonOrg
	case isVenvBin(p):
		return OriginVenv
	}
	return ""
}

// isVenvBin says whether p is an executable in a virtual environment's
// bin folder (NAME/bin/python3.x with NAME a venv-like folder).
func isVenvBin(p string) bool {
	dir := path.Dir(p)
	if path.Base(dir) != "bin" {
		return false
	}
	return isVenvDirName(path.Base(path.Dir(dir))) || strings.Contains(p, "/virtualenvs/") || isToolEnvBin(p)
}

// isToolEnvBin says whether p is in a tool environment's bin folder:
// pipx's venvs/NAME/bin (~/.local/pipx or ~/.local/share/pipx) or uv's
// tools/NAME/bin (~/.local/share/uv/tools).
func isToolEnvBin(p string) bool {
	env := path.Dir(path.Dir(p))
	parent := path.Dir(env)
	return path.Base(path.Dir(p)) == "bin" && (path.Base(parent) == "venvs" && path.Base(path.Dir(parent)) == "pipx" ||
		path.Base(parent) == "tools" && path.Base(path.Dir(parent)) == "uv")
}

// isVenvDirName is the usual name of a project's virtual environment.
func isVenvDirName(n string) bool {
	switch n {
	case ".venv", "venv", ".env", "env", "virtualenv", ".virtualenv":
		return true
	}
	return strings.HasPrefix(n, ".venv") || strings.HasPrefix(n, "venv")
}

func versionOf(p string) string {
	for _, re := range []struct {
		lit string // what the pattern holds literally: no regexp run without it
		re  *regexp.Regexp
	}{{"/Cellar/python", reCellarVer}, {"/.pyenv/versions/", rePyenvVer}, {"/cpython-", reUVVer}, {"/Versions/", reVersionDir}} {
		if !strings.Contains(p, re.lit) {
			continue
		}
		if m := re.re.FindStringSubmatch(p); m != nil {
			return m[1]
		}
	}
	if !strings.Contains(p, "python") {
		return "" // rePythonBinVer needs it; no regexp run at each "/"
	}
	if m := rePythonBinVer.FindStringSubmatch(p); m != nil {
		return m[1]
	}
	return ""
}

// envOf finds the virtual environment and the project from the paths of
// loaded images: an extension module under ENV/lib/pythonX.Y/site-packages.
// A site-packages of the interpreter itself (Homebrew's Cellar, a framework)
// is no environment. A venv named like .venv or venv sits in its project;
// conda's envs/NAME, pyenv-virtualenv, pipenv and poetry keep theirs
// elsewhere, so the project stays unknown. Redacted paths ("/*/") say nothing.
func envOf(images []string) (venv, project string) {
	for _, im := range images {
		i := strings.Index(im, "/site-packages/")
		if i < 0 || strings.Contains(im[:i], "/*") {
			continue
		}
		root := im[:i]
		if j := strings.LastIndex(root, "/lib/python"); j >= 0 {
			root = root[:j]
		} else {
			continue
		}
		switch {
		case strings.Contains(root, "/Cellar/") || strings.Contains(root, ".framework/") || strings.HasPrefix(root, "/usr/") || strings.HasPrefix(root, "/Library/"):
			continue // the interpreter's own site-packages
		case isVenvDirName(path.Base(root)):
			return root, path.Dir(root)
		case strings.Contains(root, "/envs/"), strings.Contains(root, "/virtualenvs/"), strings.Contains(root, "/.pyenv/versions/"):
			if strings.Contains(root, "/.pyenv/versions/") && reFullVersion.MatchString(path.Base(root)) {
				continue // a pyenv interpreter, not a virtualenv
			}
			return root, ""
		case strings.Contains(root, "/pipx/venvs/"), strings.Contains(root, "/uv/tools/"):
			return root, ""
		}
	}
	return "", ""
}

// venvOfCommand finds a virtual environment in a command line: the
// interpreter or script run from ENV/bin/ (".venv/bin/gunicorn").
func venvOfCommand(argv []string) (venv, project string) {
	for i, a := range argv {
		if i > 1 || !strings.HasPrefix(a, "/") {
			continue
		}
		if isVenvBin(a) {
			root := path.Dir(path.Dir(a))
			if isVenvDirName(path.Base(root)) {
				return root, path.Dir(root)
			}
			return root, ""
		}
	}
	return "", ""
}

// moduleOf names the package of an extension module image:
// "duckdb.cpython-313-darwin.so" → "duckdb", "_pydantic_core.cpython-…" →
// the package folder above it when the path shows one ("pydantic_core").
func moduleOf(image, imgPath string) string {
	name := image
	if name == "" {
		name = path.Base(imgPath)
	}
	if i := strings.Index(name, ".cpython-"); i > 0 {
		name = name[:i]
	} else if i := strings.Index(name, ".abi3.so"); i > 0 {
		name = name[:i]
	} else if imgPath != "" && !strings.HasSuffix(name, ".so") && !strings.HasSuffix(name, ".dylib") {
		name = path.Base(imgPath) // a bundle id in .crash frames: the file names the module
	} else {
		name = strings.TrimSuffix(strings.TrimSuffix(name, ".so"), ".dylib")
	}
	if i := strings.Index(imgPath, "/site-packages/"); i >= 0 {
		rest := imgPath[i+len("/site-packages/"):]
		if j := strings.IndexByte(rest, '/'); j > 0 {
			pkg := rest[:j]
			if !strings.HasSuffix(pkg, ".libs") && !strings.HasSuffix(pkg, ".dylibs") {
				return pkg
			}
		}
	}
	return name
}

// isPythonRuntimeImage says whether an image is the interpreter itself.
func isPythonRuntimeImage(name string) bool {
	return name == "Python" || name == "org.python.python" || name == "Python3" || name == "com.apple.python3" ||
		isLibPython(name) || IsPythonName(name)
}

// isLibPython is reLibPython without a regular expression, for loops over
// frames: "libpython3.12.dylib", ".../libpython3.13t.dylib".
func isLibPython(name string) bool {
	i := strings.LastIndex(name, "libpython")
	return i >= 0 && (i == 0 || name[i-1] == '/') && strings.HasSuffix(name, ".dylib") && reLibPython.MatchString(name[i:])
}
