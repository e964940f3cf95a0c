package report

import (
	"path"
	"regexp"
	"strings"
)

// What the report itself says about the tool and the runtime. Only what a
// report can really show counts: reports list compiled images (a
// pure-Python package such as gunicorn, celery, Ansible or Airflow never
// appears there), the executable, and the crashed thread's frames.

var (
	// reToolEnv is a tool's own environment: pipx's venvs/NAME (under
	// ~/.local/pipx or ~/.local/share/pipx) and uv's tools/NAME
	// (~/.local/share/uv/tools). Any compiled module loaded from there
	// names the tool the environment was made for.
	reToolEnv = regexp.MustCompile(`/(?:pipx/venvs|uv/tools)/([^/]+)/`)
	// reRubyVersion finds a Ruby's full version in its install path:
	// rbenv and asdf (versions/3.1.2, installs/ruby/3.1.2), rvm and chruby
	// (rubies/ruby-3.1.2), Homebrew (Cellar/ruby/3.1.2, Cellar/ruby@3.1/3.1.2).
	reRubyVersion = regexp.MustCompile(`/(?:rbenv/versions|\.rbenv/versions|installs/ruby|rubies/ruby-|Cellar/ruby(?:@[\d.]+)?)/?(\d+\.\d+\.\d+)`)
	// reLibRuby is libruby.3.1.dylib (minor version only).
	reLibRuby = regexp.MustCompile(`(?:^|/)libruby\.(\d+\.\d+)(?:\.\d+)?\.dylib$`)
)

// frameworkFromReport recognises a tool from the report alone: the crashed
// executable (uwsgi and php-fpm embed their interpreter), a compiled
// module loaded from a pipx or uv tool environment, a Ruby gem's compiled
// extension (puma's puma_http11), or the pg gem's GSSAPI lookup in the
// crashed thread. Redacted paths say nothing. Nil when the report names no
// tool.
func frameworkFromReport(f *facts) *Framework {
	exe := path.Base(f.exePath)
	switch {
	case exe == "uwsgi" || f.process == "uwsgi":
		return frameworkPtr("uwsgi")
	case exe == "php-fpm" || f.process == "php-fpm":
		return frameworkPtr("php-fpm")
	}
	pgLoaded := false
	for _, im := range f.images {
		if strings.Contains(im, "/*") {
			continue
		}
		if strings.HasSuffix(im, "/pg_ext.bundle") || strings.Contains(path.Base(im), "libpq.") {
			pgLoaded = true
		}
	}
	if pgLoaded {
		for _, fr := range f.crashed {
			if strings.Contains(fr.symbol, "GSS") || strings.HasPrefix(fr.symbol, "gss_") || strings.Contains(fr.symbol, "krb5") {
				return frameworkPtr("pg")
			}
		}
	}
	for _, im := range f.images {
		if strings.Contains(im, "/*") {
			continue
		}
		if !strings.Contains(im, "/pipx/venvs/") && !strings.Contains(im, "/uv/tools/") {
			continue // reToolEnv's literals: no regexp run for the other images
		}
		if m := reToolEnv.FindStringSubmatch(im); m != nil {
			if fw := frameworkByDist(m[1]); fw != nil {
				return fw
			}
		}
		switch {
		case strings.Contains(im, "/site-packages/pyuwsgi"):
			return frameworkPtr("uwsgi")
		case strings.HasSuffix(im, "/puma_http11.bundle"):
			return frameworkPtr("puma")
		}
	}
	return nil
}

// frameworkByDist returns the forking tool a distribution installs
// ("ansible-core" → ansible), or nil. Rows that are not affected are
// left out: their environment says nothing about what forked.
func frameworkByDist(dist string) *Framework {
	dist = normDist(dist)
	for _, fw := range frameworkTable().rows {
		if fw.NotAffected || fw.Name == "rq-pool" {
			continue
		}
		for _, d := range fw.Dists {
			if normDist(d) == dist {
				fw := fw
				return &fw
			}
		}
	}
	return nil
}

// normDist normalises a distribution name the way PEP 503 does (lower
// case, runs of -_. as one -).
func normDist(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r == '-' || r == '_' || r == '.' {
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

// rubyVersionOf finds the crashed Ruby's version: the full one from an
// install path, else the minor one from libruby's name.
func rubyVersionOf(f *facts) string {
	paths := append([]string{f.exePath}, f.images...)
	for _, fr := range f.crashed {
		paths = append(paths, fr.path, fr.image)
	}
	minor := ""
	for _, p := range paths {
		// Each pattern names "ruby" or "rbenv" literally; most paths name
		// neither, and need no regexp run (reRubyVersion has no literal
		// start to search for, so it would try each "/").
		if !strings.Contains(p, "ruby") && !strings.Contains(p, "rbenv") {
			continue
		}
		if m := reRubyVersion.FindStringSubmatch(p); m != nil {
			return m[1]
		}
		if m := reLibRuby.FindStringSubmatch(p); m != nil && minor == "" {
			minor = m[1]
		}
	}
	return minor
}

// versionBefore says whether version v is older than min ("3.1.2" <
// "3.1.3"); a minor-only v ("3.1") is older only when every release of it
// is. ok is false when v cannot be compared.
func versionBefore(v, min string) (before, ok bool) {
	a, b := splitVersion(v), splitVersion(min)
	if len(a) == 0 || len(b) == 0 {
		return false, false
	}
	for i := 0; i < len(b); i++ {
		if i >= len(a) {
			return false, false // "3.1" against "3.1.3": cannot tell
		}
		if a[i] != b[i] {
			return a[i] < b[i], true
		}
	}
	return false, true
}

func splitVersion(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		n := 0
		if p == "" {
			return out
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return out
			}
			n = n*10 + int(c-'0')
		}
		out = append(out, n)
	}
	return out
}
