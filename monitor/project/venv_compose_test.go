package project

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func itoa(n int) string { return strconv.Itoa(n) }

func dist(t *testing.T, venv, name, version string) string {
	t.Helper()
	return write(t, venv, filepath.Join("lib", "python3.12", "site-packages", name+"-"+version+".dist-info", "METADATA"),
		"Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+"\n\nVersion: 9.9.9 (the description, not a header)\n")
}

// TestVenvVersions: the project's .venv's installed versions are read from
// METADATA (headers only), a pin in requirements wins, $VIRTUAL_ENV counts
// only when the project has no venv of its own, and a METADATA that is a
// link or writable by others is skipped and listed.
func TestVenvVersions(t *testing.T) {
	d := projectDir(t)
	write(t, d, "Procfile", "worker: rq worker high\n")
	write(t, d, "requirements.txt", "redis==5.0.1\n")
	venv := filepath.Join(d, ".venv")
	dist(t, venv, "rq", "2.1.0")
	dist(t, venv, "redis", "5.2.0")
	bad := dist(t, venv, "billiard", "4.2.0")
	os.Chmod(bad, 0o666)
	other := filepath.Join(t.TempDir(), "other")
	dist(t, other, "rq", "2.3.1")
	res, err := ScanWith(d, Options{UID: os.Getuid(), VirtualEnv: other})
	if err != nil {
		t.Fatal(err)
	}
	if res.Versions["py:rq"] != "2.1.0" || res.Versions["py:redis"] != "5.0.1" || res.Versions["py:billiard"] != "" {
		t.Errorf("versions: %v", res.Versions)
	}
	if res.Installed["py:redis"].Version != "5.2.0" {
		t.Errorf("installed: %v", res.Installed)
	}
	if len(res.Findings) != 1 || !strings.Contains(strings.Join(res.Findings[0].Caveats, " "), "rq 2.1.0, older than 2.2") {
		t.Errorf("findings: %+v", res.Findings)
	}
	if len(res.Skipped) != 1 || !strings.HasSuffix(res.Skipped[0].File, "billiard-4.2.0.dist-info/METADATA") {
		t.Errorf("skipped: %+v", res.Skipped)
	}
	// No venv of its own: $VIRTUAL_ENV's.
	os.RemoveAll(venv)
	res, _ = ScanWith(d, Options{UID: os.Getuid(), VirtualEnv: other})
	if res.Versions["py:rq"] != "2.3.1" {
		t.Errorf("$VIRTUAL_ENV not read: %v", res.Versions)
	}
	// Someone else's venv is not read.
	res, _ = ScanWith(d, Options{UID: os.Getuid(), VirtualEnv: "relative/venv"})
	if res.Versions["py:rq"] != "" {
		t.Errorf("a relative $VIRTUAL_ENV was read: %v", res.Versions)
	}
}

// TestComposeCommands: a Compose file's command in string and list form is
// recognised with the tool table, at its own line; a service without one,
// a file that does not parse, and an entrypoint are not findings.
func TestComposeCommands(t *testing.T) {
	d := projectDir(t)
	write(t, d, "compose.yaml", `services:
  web:
    image: shop
    command: gunicorn --preload -w 4 shop.wsgi
  worker:
    command:
      - celery
      - -A
      - shop
      - worker
      - --pool=solo
  api:
    command: ["uvicorn", "main:app", "--workers", "4"]
  rq:
    command: rq worker --with-scheduler -w rq.worker.SpawnWorker
  db:
    image: postgres
`)
	write(t, d, "docker-compose.yml", "services: [\n")
	res, err := Scan(d)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Tool+"@"+filepath.Base(f.File)+":"+itoa(f.Line)+":"+map[bool]string{true: "forks", false: "safe"}[f.Forks])
	}
	want := "gunicorn@compose.yaml:4:forks uvicorn@compose.yaml:13:safe rq@compose.yaml:15:forks"
	if strings.Join(got, " ") != want {
		t.Errorf("findings %q, want %q", strings.Join(got, " "), want)
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "does not parse") {
		t.Errorf("skipped: %+v", res.Skipped)
	}
}
