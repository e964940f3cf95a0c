package project

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// venv reads the versions of the distributions installed in the project's
// own virtual environment (.venv, venv, or $VIRTUAL_ENV when the project
// has neither): the Version: header of each *.dist-info/METADATA
// (packaging.python.org, "Core metadata specifications": Name and Version
// are required, one "Key: value" header per line before the body). Only a
// venv the user owns that nobody else can write is read, and only its
// METADATA files that pass the same check; a pin in requirements wins over
// what is installed, since the pin is what the project deploys. Installed
// versions are recorded as "py:NAME" like pins, and listed in
// Result.Installed with the file they came from.
func (s *scanner) venv() {
	for _, root := range s.venvRoots() {
		if ownedDir(root, s.o.UID) != nil {
			continue
		}
		sites, _ := filepath.Glob(filepath.Join(root, "lib", "python*", "site-packages"))
		if len(sites) == 0 {
			continue
		}
		for _, site := range sites {
			if ownedDir(site, s.o.UID) != nil {
				s.skip(site, "not the user's own folder, or writable by others")
				continue
			}
			s.distInfos(site)
		}
		return // the first venv found is the project's
	}
}

// venvRoots are the folders that may be the project's venv, in order.
func (s *scanner) venvRoots() []string {
	roots := []string{filepath.Join(s.dir, ".venv"), filepath.Join(s.dir, "venv")}
	if v := s.o.VirtualEnv; v != "" && filepath.IsAbs(v) {
		roots = append(roots, filepath.Clean(v))
	}
	return roots
}

// distInfos reads each *.dist-info/METADATA's Name and Version in site.
func (s *scanner) distInfos(site string) {
	ents, err := os.ReadDir(site)
	if err != nil {
		s.skip(site, err.Error())
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), ".dist-info") {
			continue
		}
		p := filepath.Join(site, e.Name(), "METADATA")
		data, ok := s.read(p)
		if !ok {
			continue
		}
		name, version := metadataNameVersion(data)
		if name == "" || version == "" {
			s.skip(p, "no Name or Version header")
			continue
		}
		key := "py:" + normDist(name)
		if s.res.Installed == nil {
			s.res.Installed = map[string]Installed{}
		}
		s.res.Installed[key] = Installed{Version: version, File: p}
		if _, pinned := s.res.Versions[key]; !pinned {
			s.res.Versions[key] = version
		}
	}
}

// metadataNameVersion reads the Name and Version headers of a METADATA
// file (RFC 822 style headers; the body after the first empty line is the
// description and is not read).
func metadataNameVersion(data []byte) (name, version string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			break
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "name":
			name = strings.TrimSpace(v)
		case "version":
			version = strings.TrimSpace(v)
		}
		if name != "" && version != "" {
			break
		}
	}
	return name, version
}
