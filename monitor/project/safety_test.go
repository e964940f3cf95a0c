package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// write creates a file in a project folder (parents 0755, file 0644).
func write(t *testing.T, dir, rel, body string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func projectDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "shop")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func tools(r Result) string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Tool)
	}
	return strings.Join(out, ",")
}

// TestScanReadsOnlyWhatTheUserOwns: a file others can write, a symbolic
// link, a FIFO and an oversized file are skipped and listed; a folder that
// is not the user's is refused as a whole. Nothing blocks on the FIFO.
func TestScanReadsOnlyWhatTheUserOwns(t *testing.T) {
	d := projectDir(t)
	g := write(t, d, "gunicorn.conf.py", "preload_app = True\n")
	if err := os.Chmod(g, 0o666); err != nil {
		t.Fatal(err)
	}
	elsewhere := write(t, t.TempDir(), "Procfile", "web: gunicorn app:app --preload\n")
	if err := os.Symlink(elsewhere, filepath.Join(d, "Procfile")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(d, "Procfile.dev"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, d, "locust.conf", "processes = 4\n"+strings.Repeat("# pad\n", 100))
	res, err := ScanWith(d, Options{UID: os.Getuid(), MaxFileSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("findings from files that may not be read: %+v", res.Findings)
	}
	reasons := map[string]string{}
	for _, s := range res.Skipped {
		reasons[filepath.Base(s.File)] = s.Reason
	}
	for file, want := range map[string]string{"gunicorn.conf.py": "writable by others", "Procfile": "symbolic link", "Procfile.dev": "not a regular file", "locust.conf": "limit 64"} {
		if !strings.Contains(reasons[file], want) {
			t.Errorf("%s: skipped for %q, want %q (all: %v)", file, reasons[file], want, reasons)
		}
	}
	if _, err := ScanWith(d, Options{UID: os.Getuid() + 1}); !errors.Is(err, ErrNotProject) {
		t.Errorf("another user's folder: err %v, want ErrNotProject", err)
	}
	if _, err := Scan(filepath.Join(d, "missing")); err == nil {
		t.Error("a missing folder scanned")
	}
}

// TestScanParseErrorsAndModes: a file that does not parse is skipped and
// said; each reader's forking and non-forking modes.
func TestScanParseErrorsAndModes(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string // tools found, in order
		forks bool   // at risk
		skip  string // a skipped file, "" for none
		note  string // a caveat that must be there
	}{
		{"broken pyproject", map[string]string{"pyproject.toml": "[tool.pytest.ini_options\naddopts = \"--forked\"\n"}, "", false, "pyproject.toml", ""},
		{"broken queue.yml", map[string]string{"config/queue.yml": "default:\n  workers: [\n"}, "", false, "queue.yml", ""},
		{"pytest.ini addopts with xdist", map[string]string{"pytest.ini": "[pytest]\naddopts = -n 4 --dist loadfile\n"}, "xdist", false, "", ""},
		{"tox.ini addopts forked", map[string]string{"tox.ini": "[tox]\nenvlist = py312\n\n[pytest]\naddopts =\n    -ra\n    --forked\n"}, "pytest-forked", true, "", ""},
		{"pyproject addopts list", map[string]string{"pyproject.toml": "[tool.pytest.ini_options]\naddopts = [\"-ra\", \"--forked\"]\n"}, "pytest-forked", true, "", ""},
		{"setup.cfg addopts pytest-parallel", map[string]string{"setup.cfg": "[tool:pytest]\naddopts = --workers auto\n"}, "pytest-parallel", true, "", ""},
		{"pytest.ini addopts tests-per-worker=", map[string]string{"pytest.ini": "[pytest]\naddopts = -ra --tests-per-worker=4\n"}, "pytest-parallel", true, "", ""},
		{"commented marker", map[string]string{"tests/test_x.py": "# @pytest.mark.forked\ndef test_x():\n    pass\n"}, "", false, "", ""},
		{"huey threads", map[string]string{"app/settings.py": "HUEY = {\n    'consumer': {'worker_type': 'thread'},\n}\n"}, "huey", false, "", ""},
		{"locust.conf processes", map[string]string{"locust.conf": "locustfile = locustfile.py\nprocesses = 4\n"}, "locust", true, "", ""},
		{"Procfile env locust", map[string]string{"Procfile": "load: LOCUST_PROCESSES=8 locust -f locustfile.py\n"}, "locust", true, "", ""},
		{"Procfile env async", map[string]string{"Procfile": "jobs: SOLID_QUEUE_SUPERVISOR_MODE=async bin/jobs\n"}, "solid_queue", false, "", ""},
		{".env mode", map[string]string{".env": "export SOLID_QUEUE_SUPERVISOR_MODE=\"async\"\nLOCUST_PROCESSES=1\n"}, "solid_queue,locust", false, "", ""},
		{"puma workers 0", map[string]string{"config/puma.rb": "workers 0\nthreads 1, 5\n"}, "puma", false, "", ""},
		{"puma workers default", map[string]string{"config/puma.rb": "workers ENV.fetch(\"WEB_CONCURRENCY\") { 2 }\n"}, "puma", true, "", "computed when Puma starts"},
		{"old solid_queue", map[string]string{"config/puma.rb": "plugin :solid_queue\n", "Gemfile.lock": "GEM\n  remote: https://rubygems.org/\n  specs:\n    solid_queue (1.2.1)\n\nRUBY VERSION\n   ruby 3.1.2p20\n"}, "solid_queue", true, "", "has no async mode"},
		{"old ruby", map[string]string{"config/puma.rb": "workers 2\n", "Gemfile.lock": "GEM\n  specs:\n    puma (6.4.0)\n\nRUBY VERSION\n   ruby 3.0.4p208\n"}, "puma", true, "", "lacks Ruby's own fork-safety fix"},
		{"rq pinned old", map[string]string{"Procfile": "worker: rq worker high default\n", "requirements.txt": "rq==2.1.0\nredis>=5\n"}, "rq", true, "", "older than 2.2"},
		{"rq SpawnWorker", map[string]string{"Procfile": "worker: rq worker -w rq.worker.SpawnWorker high\n"}, "", false, "", ""},
		{"celery billiard rc", map[string]string{"Procfile": "worker: celery -A proj worker\n", "requirements/base.txt": "celery==5.6.3\nbilliard==4.3.0rc1\n"}, "celery", true, "", "4.3.0rc1 and later"},
		{"gunicorn 25 pinned", map[string]string{"Procfile": "web: gunicorn app:app\n", "requirements.txt": "gunicorn==25.1.0\n"}, "gunicorn", true, "", "sets no process title"},
		{"uvicorn not affected", map[string]string{"Procfile": "web: uvicorn main:app --workers 4\n"}, "uvicorn", false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := projectDir(t)
			for rel, body := range tc.files {
				write(t, d, rel, body)
			}
			res, err := Scan(d)
			if err != nil {
				t.Fatal(err)
			}
			if got := tools(res); got != tc.want {
				t.Errorf("tools %q, want %q (%+v)", got, tc.want, res.Findings)
			}
			if res.AtRisk() != tc.forks {
				t.Errorf("at risk %v, want %v", res.AtRisk(), tc.forks)
			}
			skipped := ""
			for _, s := range res.Skipped {
				skipped += filepath.Base(s.File) + " "
			}
			if tc.skip == "" && skipped != "" || !strings.Contains(skipped, tc.skip) {
				t.Errorf("skipped %q, want %q", skipped, tc.skip)
			}
			if tc.note != "" {
				var all []string
				for _, f := range res.Findings {
					all = append(all, f.Caveats...)
				}
				if !strings.Contains(strings.Join(all, " "), tc.note) {
					t.Errorf("caveats %q lack %q", all, tc.note)
				}
			}
		})
	}
}

// TestWalkIsBounded: the search for test files and settings stops after
// MaxWalk entries and never enters a venv or node_modules.
func TestWalkIsBounded(t *testing.T) {
	d := projectDir(t)
	write(t, d, ".venv/lib/python3.12/site-packages/x/test_x.py", "@pytest.mark.forked\ndef test_x(): pass\n")
	write(t, d, "node_modules/y/settings.py", "HUEY = {'consumer': {'worker_type': 'process'}}\n")
	for i := 0; i < 50; i++ {
		write(t, d, filepath.Join("a", "b", "f"+string(rune('a'+i%26))+string(rune('a'+i/26))+".txt"), "x")
	}
	write(t, d, "z/tests/test_late.py", "@pytest.mark.forked\ndef test_late(): pass\n")
	res, err := ScanWith(d, Options{UID: os.Getuid(), MaxWalk: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("found %+v past the walk's bound or inside a venv", res.Findings)
	}
	res, _ = Scan(d)
	if tools(res) != "pytest-forked" {
		t.Errorf("unbounded scan found %q, want the one marked test outside the venv", tools(res))
	}
}
