package project

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
	"gopkg.in/ini.v1"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// Readers, one per file kind, in the order Scan runs them. Each cites where
// the setting it reads is documented.

// gunicornConf reads gunicorn.conf.py, gunicorn's default configuration
// file (docs.gunicorn.org, "Configuration File": ./gunicorn.conf.py). It is
// Python, so it is read line by line, never run: preload_app = True and
// workers = N, at the start of a line.
var (
	reGunicornPreload = regexp.MustCompile(`^\s*preload_app\s*=\s*True\b`)
	reGunicornWorkers = regexp.MustCompile(`^\s*workers\s*=\s*(.+?)\s*(#.*)?$`)
)

func (s *scanner) gunicornConf() {
	for _, rel := range []string{"gunicorn.conf.py", filepath.Join("config", "gunicorn.conf.py")} {
		p := filepath.Join(s.dir, rel)
		data, ok := s.read(p)
		if !ok {
			continue
		}
		for i, l := range lines(data) {
			switch {
			case reGunicornPreload.MatchString(l):
				s.add(Finding{Tool: "gunicorn", Mode: "preload_app = True", Forks: true, File: p, Line: i + 1, Text: l})
			case reGunicornWorkers.MatchString(l):
				m := reGunicornWorkers.FindStringSubmatch(l)
				s.add(Finding{Tool: "gunicorn", Mode: "workers = " + m[1], Forks: true, File: p, Line: i + 1, Text: l})
			}
		}
	}
}

// procfiles reads Procfile and Procfile.dev (Heroku's and foreman's
// format, which Rails' bin/dev runs): "name: command" per line. Each
// command is read as the tool recognition reads a live command line, after
// leading VAR=value assignments, which are kept: LOCUST_PROCESSES (locust's
// environment form of --processes, docs.locust.io "Configuration") and
// SOLID_QUEUE_SUPERVISOR_MODE (Solid Queue's README, "Fork vs. async
// mode") change the mode.
func (s *scanner) procfiles() {
	for _, rel := range []string{"Procfile", "Procfile.dev"} {
		p := filepath.Join(s.dir, rel)
		data, ok := s.read(p)
		if !ok {
			continue
		}
		for i, l := range lines(data) {
			t := strings.TrimSpace(l)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			_, cmd, ok := strings.Cut(t, ":")
			if !ok {
				continue
			}
			s.command(p, i+1, l, cmd)
		}
	}
}

// command recognises one command line from a file.
func (s *scanner) command(file string, line int, text, cmd string) {
	words, ok := shellWords(cmd)
	if !ok || len(words) == 0 {
		return
	}
	s.commandWords(file, line, text, words)
}

// commandWords recognises a command already split into words (a Compose
// file's list form).
func (s *scanner) commandWords(file string, line int, text string, words []string) {
	if len(words) == 0 {
		return
	}
	env := map[string]string{}
	for len(words) > 0 && isAssignment(words[0]) {
		k, v, _ := strings.Cut(words[0], "=")
		env[k] = v
		words = words[1:]
	}
	if len(words) == 0 {
		return
	}
	tool, prog := report.ToolFromCommand(filepath.Base(words[0]), words)
	switch {
	case tool == "solid_queue" && strings.EqualFold(env["SOLID_QUEUE_SUPERVISOR_MODE"], "async"):
		s.add(Finding{Tool: "solid_queue", Mode: "SOLID_QUEUE_SUPERVISOR_MODE=async " + prog, Forks: false, File: file, Line: line, Text: text})
	case tool == "" && prog == "bin/jobs --mode async":
		s.add(Finding{Tool: "solid_queue", Mode: prog, Forks: false, File: file, Line: line, Text: text})
	case tool == "" && prog == "locust" && env["LOCUST_PROCESSES"] != "":
		s.add(Finding{Tool: "locust", Mode: "LOCUST_PROCESSES=" + env["LOCUST_PROCESSES"], Forks: true, File: file, Line: line, Text: text})
	case tool == "celery" && prog == "celery beat" && !hasWord(words, "--detach"):
		// Standalone beat runs its scheduler loop in its own process
		// (celery/beat.py, Service.start); only --detach forks, to
		// daemonise, and -B embeds it in a worker, which is the worker's.
		s.add(Finding{Tool: tool, Mode: prog, Forks: false, File: file, Line: line, Text: text})
	case tool != "":
		fw, _ := report.FrameworkByName(tool)
		s.add(Finding{Tool: tool, Mode: prog, Forks: !fw.NotAffected, File: file, Line: line, Text: text})
	}
}

// hasWord says whether words holds w.
func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

var reAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func isAssignment(w string) bool { return reAssignment.MatchString(w) }

// shellWords splits a command the way a POSIX shell splits words with
// quotes (no expansion: "$PORT" stays as written). ok is false for an
// unterminated quote.
func shellWords(s string) (words []string, ok bool) {
	var b strings.Builder
	in, q, esc := false, byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			b.WriteByte(c)
			esc = false
		case q != 0:
			if c == q {
				q = 0
			} else if c == '\\' && q == '"' {
				esc = true
			} else {
				b.WriteByte(c)
			}
		case c == '\\':
			esc, in = true, true
		case c == '\'' || c == '"':
			q, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if q != 0 {
		return nil, false
	}
	if in {
		words = append(words, b.String())
	}
	return words, true
}

// pytestConfig reads pytest's addopts where pytest looks for them
// (docs.pytest.org, "Configuration file formats"): pytest.ini [pytest],
// pyproject.toml [tool.pytest.ini_options] (and pytest 9's native
// [tool.pytest]), tox.ini [pytest] and setup.cfg [tool:pytest]. --forked
// there makes pytest-forked fork every test (its README); -n/--numprocesses
// is pytest-xdist, whose workers exec.
func (s *scanner) pytestConfig() {
	for _, c := range []struct{ file, section string }{
		{"pytest.ini", "pytest"}, {"tox.ini", "pytest"}, {"setup.cfg", "tool:pytest"},
	} {
		p := filepath.Join(s.dir, c.file)
		data, ok := s.read(p)
		if !ok {
			continue
		}
		f, err := ini.LoadSources(ini.LoadOptions{AllowPythonMultilineValues: true, IgnoreInlineComment: true, SkipUnrecognizableLines: true}, data)
		if err != nil {
			s.skip(p, "does not parse: "+err.Error())
			continue
		}
		sec, err := f.GetSection(c.section)
		if err != nil || !sec.HasKey("addopts") {
			continue
		}
		s.addopts(p, data, "["+c.section+"]", strings.Fields(sec.Key("addopts").String()))
	}
	p := filepath.Join(s.dir, "pyproject.toml")
	data, ok := s.read(p)
	if !ok {
		return
	}
	var doc struct {
		Tool struct {
			Pytest struct {
				Addopts    any `toml:"addopts"`
				IniOptions struct {
					Addopts any `toml:"addopts"`
				} `toml:"ini_options"`
			} `toml:"pytest"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		s.skip(p, "does not parse: "+err.Error())
		return
	}
	for _, v := range []any{doc.Tool.Pytest.IniOptions.Addopts, doc.Tool.Pytest.Addopts} {
		var words []string
		switch a := v.(type) {
		case string:
			words = strings.Fields(a)
		case []any:
			for _, x := range a {
				if xs, ok := x.(string); ok {
					words = append(words, strings.Fields(xs)...)
				}
			}
		}
		if len(words) > 0 {
			s.addopts(p, data, "[tool.pytest]", words)
		}
	}
}

// addopts records what pytest's addopts turn on: --forked (pytest-forked),
// --workers/--tests-per-worker (pytest-parallel, which forks its workers on
// macOS), -n (xdist, which does not fork).
func (s *scanner) addopts(file string, data []byte, section string, words []string) {
	ls := lines(data)
	at := func(opt string) (int, string) {
		start := lineOf(ls, 0, func(l string) bool { return strings.Contains(l, "addopts") })
		n := lineOf(ls, start-1, func(l string) bool { return strings.Contains(l, opt) })
		if n == 0 {
			n = start
		}
		if n == 0 {
			return 0, ""
		}
		return n, ls[n-1]
	}
	for _, w := range words {
		switch {
		case w == "--forked":
			n, text := at("--forked")
			s.add(Finding{Tool: "pytest-forked", Mode: "--forked in addopts " + section, Forks: true, File: file, Line: n, Text: text})
			return
		case w == "--workers" || w == "--tests-per-worker" || strings.HasPrefix(w, "--workers=") || strings.HasPrefix(w, "--tests-per-worker="):
			opt, _, _ := strings.Cut(w, "=")
			n, text := at(opt)
			s.add(Finding{Tool: "pytest-parallel", Mode: opt + " in addopts " + section, Forks: true, File: file, Line: n, Text: text})
			return
		case w == "-n" || w == "--numprocesses" || strings.HasPrefix(w, "--numprocesses=") || strings.HasPrefix(w, "-n") && len(w) > 2 && w[2] >= '0' && w[2] <= '9':
			n, text := at(w)
			s.add(Finding{Tool: "xdist", Mode: w + " in addopts " + section, Forks: false, File: file, Line: n, Text: text})
			return
		}
	}
}

// forkedMarkers finds tests marked @pytest.mark.forked (or a module-wide
// pytestmark), which pytest-forked runs in a forked child whatever the
// command line says (its README, "markers").
var reForkedMarker = regexp.MustCompile(`(@pytest\.mark\.forked\b|pytestmark\s*=.*\bpytest\.mark\.forked\b)`)

func (s *scanner) forkedMarkers() {
	found := false
	s.walk(func(p string, d fs.DirEntry) {
		if found {
			return
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".py") || !(strings.HasPrefix(name, "test_") || strings.HasSuffix(name, "_test.py") || name == "conftest.py") {
			return
		}
		data, ok := s.read(p)
		if !ok || !bytes.Contains(data, []byte("forked")) {
			return
		}
		for i, l := range lines(data) {
			if reForkedMarker.MatchString(l) && !strings.HasPrefix(strings.TrimSpace(l), "#") {
				s.add(Finding{Tool: "pytest-forked", Mode: "@pytest.mark.forked", Forks: true, File: p, Line: i + 1, Text: l})
				found = true // one marked test says it; the rest add nothing
				return
			}
		}
	})
}

// hueySettings finds huey's Django settings with process workers: the
// HUEY dict's consumer "worker_type": "process" (huey docs, "Django" and
// "Consumer": worker types thread, greenlet, process).
var reHueyWorkerType = regexp.MustCompile(`["']worker_type["']\s*:\s*["'](process|thread|greenlet)["']`)

func (s *scanner) hueySettings() {
	s.walk(func(p string, d fs.DirEntry) {
		name := d.Name()
		if !strings.HasSuffix(name, ".py") || !(name == "settings.py" || filepath.Base(filepath.Dir(p)) == "settings") {
			return
		}
		data, ok := s.read(p)
		if !ok || !bytes.Contains(data, []byte("HUEY")) {
			return
		}
		for i, l := range lines(data) {
			if m := reHueyWorkerType.FindStringSubmatch(l); m != nil && !strings.HasPrefix(strings.TrimSpace(l), "#") {
				s.add(Finding{Tool: "huey", Mode: "worker_type " + m[1], Forks: m[1] == "process", File: p, Line: i + 1, Text: l})
			}
		}
	})
}

// locustConf reads locust.conf (locust's default configuration file, in
// its ConfigArgParse "key = value" form): processes = N forks N workers
// (docs.locust.io, "Configuration" and "Distributed load generation").
var reLocustProcesses = regexp.MustCompile(`^\s*processes\s*=\s*(-?\d+)`)

func (s *scanner) locustConf() {
	p := filepath.Join(s.dir, "locust.conf")
	data, ok := s.read(p)
	if !ok {
		return
	}
	for i, l := range lines(data) {
		if m := reLocustProcesses.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			s.add(Finding{Tool: "locust", Mode: "processes = " + m[1], Forks: n != 0 && n != 1, File: p, Line: i + 1, Text: l})
		}
	}
}

// dotenv reads .env for the variables that choose a mode:
// LOCUST_PROCESSES and SOLID_QUEUE_SUPERVISOR_MODE.
func (s *scanner) dotenv() {
	p := filepath.Join(s.dir, ".env")
	data, ok := s.read(p)
	if !ok {
		return
	}
	for i, l := range lines(data) {
		k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "export "), "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.TrimSpace(k) {
		case "LOCUST_PROCESSES":
			n, err := strconv.Atoi(v)
			if err == nil {
				s.add(Finding{Tool: "locust", Mode: "LOCUST_PROCESSES=" + v, Forks: n != 0 && n != 1, File: p, Line: i + 1, Text: l})
			}
		case "SOLID_QUEUE_SUPERVISOR_MODE":
			s.add(Finding{Tool: "solid_queue", Mode: "SOLID_QUEUE_SUPERVISOR_MODE=" + v, Forks: !strings.EqualFold(v, "async"), File: p, Line: i + 1, Text: l})
		}
	}
}

// pumaConfig reads config/puma.rb (Ruby, read line by line, never run):
// workers N (cluster mode forks N workers; puma README, "Clustered mode"),
// with Rails' default form workers ENV.fetch("WEB_CONCURRENCY") { N };
// plugin :solid_queue (the plugin forks Solid Queue's supervisor from Puma,
// lib/puma/plugin/solid_queue.rb) and solid_queue_mode :async (no fork).
var (
	rePumaWorkers  = regexp.MustCompile(`^\s*workers(?:\s+|\s*\(\s*)(.+?)\s*\)?\s*(#.*)?$`)
	rePumaDefault  = regexp.MustCompile(`ENV\.fetch\(\s*["'][A-Z_]+["']\s*(?:,\s*(\d+)\s*\)|\)\s*\{\s*(\d+)\s*\})`)
	rePumaPlugin   = regexp.MustCompile(`^\s*plugin\s*\(?\s*:solid_queue\b\s*\)?\s*(.*)$`)
	rePumaSQMode   = regexp.MustCompile(`^\s*solid_queue_mode\s*\(?\s*:(\w+)`)
	rePumaModeLine = regexp.MustCompile(`^\s*#`)
)

func (s *scanner) pumaConfig() {
	p := filepath.Join(s.dir, "config", "puma.rb")
	data, ok := s.read(p)
	if !ok {
		return
	}
	ls := lines(data)
	async := false
	for _, l := range ls {
		if m := rePumaSQMode.FindStringSubmatch(l); m != nil && m[1] == "async" {
			async = true
		}
	}
	for i, l := range ls {
		if rePumaModeLine.MatchString(l) {
			continue
		}
		switch {
		case rePumaWorkers.MatchString(l):
			expr := rePumaWorkers.FindStringSubmatch(l)[1]
			n, known := pumaWorkers(expr)
			f := Finding{Tool: "puma", Mode: "workers " + expr, Forks: n != 0, File: p, Line: i + 1, Text: l}
			if !known {
				f.Caveats = append(f.Caveats, "The number of Puma workers is computed when Puma starts ("+report.Clean(expr, 80)+"): cluster mode, which forks, unless it comes to 0.")
			}
			s.add(f)
		case rePumaPlugin.MatchString(l):
			cond := strings.TrimSpace(rePumaPlugin.FindStringSubmatch(l)[1])
			f := Finding{Tool: "solid_queue", Mode: "plugin :solid_queue", Forks: !async, File: p, Line: i + 1, Text: l}
			if async {
				f.Mode += " with solid_queue_mode :async"
			}
			if strings.HasPrefix(cond, "if ") || strings.HasPrefix(cond, "unless ") {
				f.Caveats = append(f.Caveats, "The plugin is loaded only "+report.Clean(cond, 120)+".")
			}
			s.add(f)
		}
	}
}

// pumaWorkers reads the worker count of a workers line: a literal, or the
// default of ENV.fetch("WEB_CONCURRENCY") { N } / ENV.fetch("...", N).
//
// known is true only for a literal: with ENV.fetch the environment may
// override the default, and any other expression is Ruby the reader does
// not run. n is -1 when nothing says a count.
func pumaWorkers(expr string) (n int, known bool) {
	if v, err := strconv.Atoi(expr); err == nil {
		return v, true
	}
	if m := rePumaDefault.FindStringSubmatch(expr); m != nil {
		if v, err := strconv.Atoi(m[1] + m[2]); err == nil {
			return v, false
		}
	}
	return -1, false
}

// queueYML reads Solid Queue's config/queue.yml (its README,
// "Configuration"): per environment, workers with processes: N. The file
// has no mode: processes count only in fork mode, which bin/jobs (--mode)
// or SOLID_QUEUE_SUPERVISOR_MODE choose; fork is the default.
func (s *scanner) queueYML() {
	p := filepath.Join(s.dir, "config", "queue.yml")
	data, ok := s.read(p)
	if !ok {
		return
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		s.skip(p, "does not parse: "+err.Error())
		return
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return
	}
	top := root.Content[0]
	ls := lines(data)
	// Environments that share one workers list (<<: *default) are one
	// finding: the list's own line, every environment named.
	type group struct {
		node *yaml.Node
		envs []string
	}
	var groups []*group
	byNode := map[*yaml.Node]*group{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		env, val := top.Content[i], top.Content[i+1]
		val = deref(val)
		if val.Kind != yaml.MappingNode {
			continue
		}
		workers := deref(mapValue(val, "workers"))
		if workers == nil || workers.Kind != yaml.SequenceNode {
			continue
		}
		g := byNode[workers]
		if g == nil {
			g = &group{node: workers}
			byNode[workers] = g
			groups = append(groups, g)
		}
		g.envs = append(g.envs, env.Value)
	}
	for _, g := range groups {
		total, line, fromEnv := 0, g.node.Line, ""
		for _, w := range g.node.Content {
			if w.Kind != yaml.MappingNode {
				continue
			}
			n := 1 // Solid Queue's default
			if pv := mapValue(w, "processes"); pv != nil {
				line = pv.Line
				if v, err := strconv.Atoi(pv.Value); err == nil {
					n = v
				} else if m := reERBDefault.FindStringSubmatch(pv.Value); m != nil {
					n, _ = strconv.Atoi(m[2])
					fromEnv = m[1]
				}
			}
			total += n
		}
		if total == 0 {
			continue
		}
		text := ""
		if line > 0 && line <= len(ls) {
			text = ls[line-1]
		}
		envs := strings.Join(g.envs, ", ")
		if len(g.envs) > 1 && g.envs[0] == "default" {
			envs = strings.Join(g.envs[1:], ", ")
		}
		f := Finding{Tool: "solid_queue", Mode: strconv.Itoa(total) + " worker process(es) for " + envs + ", forked in fork mode (Solid Queue's default)", Forks: true, File: p, Line: line, Text: text,
			Caveats: []string{"config/queue.yml holds no mode: bin/jobs --mode async or SOLID_QUEUE_SUPERVISOR_MODE=async run these as threads instead."}}
		if fromEnv != "" {
			f.Caveats = append(f.Caveats, "The number of processes comes from "+fromEnv+" when it is set.")
		}
		s.add(f)
	}
}

// reERBDefault reads the default of an ERB environment lookup, as Rails'
// generated queue.yml writes it: <%= ENV.fetch("JOB_CONCURRENCY", 1) %>.
var reERBDefault = regexp.MustCompile(`<%%?=\s*ENV\.fetch\(\s*["']([A-Z_]+)["']\s*,\s*(\d+)\s*\)\s*%>`)

// deref follows a YAML alias.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// mapValue is the value node of key in a YAML mapping, following merges
// (<<: *default) one level.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "<<" {
			if v := deref(m.Content[i+1]); v.Kind == yaml.MappingNode {
				return mapValue(v, key)
			}
		}
	}
	return nil
}

// gemfileLock reads the gems' and Ruby's versions from Gemfile.lock
// (Bundler's lockfile: "    name (version)" under specs:, "RUBY VERSION"
// then "   ruby 3.3.0p0").
var (
	reGemSpec = regexp.MustCompile(`^    ([A-Za-z0-9_.-]+) \(([^)\s]+)\)$`)
	reRubyVer = regexp.MustCompile(`^\s+ruby (\d+\.\d+\.\d+)`)
)

func (s *scanner) gemfileLock() {
	p := filepath.Join(s.dir, "Gemfile.lock")
	data, ok := s.read(p)
	if !ok {
		return
	}
	ls := lines(data)
	for i, l := range ls {
		if m := reGemSpec.FindStringSubmatch(l); m != nil {
			v := m[2]
			if j := strings.IndexByte(v, '-'); j > 0 { // platform suffix: 1.16.0-arm64-darwin
				v = v[:j]
			}
			s.res.Versions["gem:"+m[1]] = v
		}
		if strings.TrimSpace(l) == "RUBY VERSION" && i+1 < len(ls) {
			if m := reRubyVer.FindStringSubmatch(ls[i+1]); m != nil {
				s.res.Versions["ruby"] = m[1]
			}
		}
	}
}

// requirements reads exact pins (name==version) from requirements.txt and
// requirements/*.txt; versions decide some fixes (rq's SpawnWorker,
// billiard's spawn default).
var rePin = regexp.MustCompile(`^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*==\s*([A-Za-z0-9_.+-]+)`)

func (s *scanner) requirements() {
	files := []string{filepath.Join(s.dir, "requirements.txt")}
	if ents, err := os.ReadDir(filepath.Join(s.dir, "requirements")); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".txt") {
				files = append(files, filepath.Join(s.dir, "requirements", e.Name()))
			}
		}
	}
	for _, p := range files {
		data, ok := s.read(p)
		if !ok {
			continue
		}
		for _, l := range lines(data) {
			if m := rePin.FindStringSubmatch(l); m != nil {
				s.res.Versions["py:"+normDist(m[1])] = m[2]
			}
		}
	}
}

func normDist(n string) string {
	return strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(n))
}

// skipDirs are folders a walk never enters: other people's code, caches,
// and environments.
var skipDirs = map[string]bool{".git": true, ".hg": true, "node_modules": true, ".venv": true, "venv": true, "env": true, ".tox": true, ".nox": true, "__pycache__": true, "site-packages": true, "vendor": true, "tmp": true, "log": true, ".mypy_cache": true, ".pytest_cache": true, "build": true, "dist": true}

// walk visits the project's files (not following links, not entering
// skipDirs or hidden folders, at most MaxWalk entries, at most 6 levels).
func (s *scanner) walk(visit func(path string, d fs.DirEntry)) {
	n := 0
	_ = filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > s.o.MaxWalk {
			return filepath.SkipAll
		}
		if d.IsDir() {
			if p == s.dir {
				return nil
			}
			rel, _ := filepath.Rel(s.dir, p)
			if skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".") || strings.Count(rel, string(filepath.Separator)) >= 6 {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			visit(p, d)
		}
		return nil
	})
}
