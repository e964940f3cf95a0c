package monitor

import (
	"github.com/forkwatch/forkwatch/monitor/report"

	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/forkwatch/forkwatch/internal/syscmd"
)

// DefaultCorePattern is macOS's kern.corefile when nobody changed it.
const DefaultCorePattern = "/cores/core.%P"

// ReadCorePattern asks the system where core files go: `sysctl -n
// kern.corefile` (sysctl(8); the default is /cores/core.%P).
func ReadCorePattern(ctx context.Context) (string, error) {
	out, err := syscmd.Run(ctx, 0, "sysctl", "-n", "kern.corefile")
	if err != nil {
		return "", fmt.Errorf("read kern.corefile: %w", err)
	}
	p := strings.TrimSpace(out)
	if p == "" {
		return "", fmt.Errorf("read kern.corefile: empty answer")
	}
	return p, nil
}

// CoreDir splits a kern.corefile pattern into the folder to watch and the
// pattern of file names in it. A relative pattern (cores land in each
// crashing process's working directory) cannot be watched.
func CoreDir(pattern string) (dir, base string, err error) {
	if !filepath.IsAbs(pattern) {
		return "", "", fmt.Errorf("kern.corefile %q is relative: core files land in each process's working directory, which cannot be watched", pattern)
	}
	dir, base = filepath.Split(pattern)
	if strings.Contains(dir, "%") {
		return "", "", fmt.Errorf("kern.corefile %q has a variable folder; only the file name may vary", pattern)
	}
	return filepath.Clean(dir), base, nil
}

// coreNameMatcher turns the file-name part of kern.corefile into a regular
// expression: %P is the pid, %N the process name, %U the uid, %H the host.
func coreNameMatcher(base string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(base); i++ {
		if base[i] == '%' && i+1 < len(base) {
			i++
			switch base[i] {
			case 'P':
				b.WriteString(`(?P<pid>\d+)`)
			case 'U':
				b.WriteString(`\d+`)
			case 'N', 'H':
				b.WriteString(`.+?`)
			case '%':
				b.WriteString("%")
			default:
				b.WriteString(`.*?`)
			}
			continue
		}
		b.WriteString(regexp.QuoteMeta(base[i : i+1]))
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// corePID returns the pid in a core file name, or 0.
func corePID(re *regexp.Regexp, name string) (int, bool) {
	m := re.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	if i := re.SubexpIndex("pid"); i > 0 {
		pid, _ := strconv.Atoi(m[i])
		return pid, true
	}
	return 0, true
}

// ListCores lists the core files in dir whose names match namePattern (the
// file-name part of kern.corefile). Only regular files directly in dir are
// listed: /cores is writable by everyone, so a symlink or folder there is
// never followed. Contents are never read.
func ListCores(dir, namePattern string) ([]report.CoreFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	re := coreNameMatcher(namePattern)
	var out []report.CoreFile
	for _, e := range entries {
		pid, ok := corePID(re, e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, report.CoreFile{Path: filepath.Join(dir, e.Name()), PID: pid, Size: fi.Size()})
	}
	return out, nil
}

// IsCoreFile checks, just before acting on it, that path is a regular file
// directly inside dir with a core file's name: not a symlink, not a folder,
// not a path that leads elsewhere.
func IsCoreFile(dir, namePattern, path string) error {
	if filepath.Dir(path) != filepath.Clean(dir) {
		return fmt.Errorf("%s is not directly in %s", path, dir)
	}
	if _, ok := corePID(coreNameMatcher(namePattern), filepath.Base(path)); !ok {
		return fmt.Errorf("%s is not named like a core file", path)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is a %s, not a core file", path, kindOfEntry(fi.Mode()))
	}
	return nil
}
