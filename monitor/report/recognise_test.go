package report

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// joinCommand is the inverse, as monitor/attribute shows a command line.
func joinCommand(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// commandLine is one row of testdata/commands.tsv.
type commandLine struct {
	comm, command, tool, fix, program, source string
}

func readCommands(t *testing.T) []commandLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "commands.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []commandLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 6 || c[5] == "" {
			t.Fatalf("commands.tsv:%d: want 6 tab-separated columns with a source, got %d", n, len(c))
		}
		rows = append(rows, commandLine{c[0], c[1], c[2], c[3], c[4], c[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// runtimeOfComm is the runtime a crashed child of this parent has.
func runtimeOfComm(comm string, argv []string) string {
	switch {
	case comm == "ruby":
		return RuntimeRuby
	case strings.HasPrefix(comm, "php"):
		return RuntimePHP
	case comm == "perl":
		return RuntimePerl
	}
	return RuntimePython
}

// TestCommandLines checks real command lines (each cited in
// testdata/commands.tsv) end to end: a fork child killed by the
// Objective-C check whose live parent ran the line gets the tool, the
// tool's fix (with its keyword) and the program name; a line that names no
// tool gets no tool fix.
func TestCommandLines(t *testing.T) {
	rows := readCommands(t)
	if len(rows) < 100 {
		t.Fatalf("commands.tsv has %d command lines, want at least 100", len(rows))
	}
	for _, row := range rows {
		t.Run(row.command, func(t *testing.T) {
			argv := splitCommandLine(row.command)
			r := &Report{ForkChild: true, ObjCForkSafety: true, Cause: CauseForkSafety, ParentProcess: row.comm, ParentCommand: joinCommand(argv)}
			r.Runtime = runtimeOfComm(row.comm, argv)
			r.Python = r.Runtime == RuntimePython
			RecogniseTool(r, ToolSources{ParentName: row.comm, ParentArgv: argv})
			want := row.tool
			if want == "-" {
				want = ""
			}
			if r.Framework != want {
				t.Fatalf("tool %q, want %q (evidence %q)", r.Framework, want, r.Evidence)
			}
			if want != "" && r.FrameworkEvidence != EvidenceParent {
				t.Errorf("framework_evidence %q, want %q", r.FrameworkEvidence, EvidenceParent)
			}
			switch {
			case row.fix == "-" && r.Fix != "":
				t.Errorf("fix %q for a line that names no tool", r.Fix)
			case row.fix != "-" && !strings.Contains(r.Fix, row.fix):
				t.Errorf("fix %q does not say %q", r.Fix, row.fix)
			}
			if got := ProgramName(r); got != row.program {
				t.Errorf("program %q, want %q", got, row.program)
			}
		})
	}
}

// TestRecogniseToolEvidence: which evidence wins, and what the venv's
// contents add.
func TestRecogniseToolEvidence(t *testing.T) {
	gunicorn := strings.Fields("/x/.venv/bin/python /x/.venv/bin/gunicorn app:app")
	spawnWorker := []string{"/x/venv/bin/python3.12", "-c", "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)", "--multiprocessing-fork"}
	cases := []struct {
		name           string
		report         Report
		src            ToolSources
		tool, evidence string
		fix            string // substring of Fix; "" for none
	}{
		{"the tracer beats the parent", Report{ForkVia: "tornado.process"}, ToolSources{ParentName: "python3", ParentArgv: gunicorn},
			"tornado", EvidenceTracer, "reuse_port=True"},
		{"parent command", Report{}, ToolSources{ParentName: "python3", ParentArgv: gunicorn}, "gunicorn", EvidenceParent, "preload"},
		{"parent beats multiprocessing from the images", Report{Framework: "multiprocessing", FrameworkEvidence: EvidenceReport}, ToolSources{ParentName: "python3", ParentArgv: strings.Fields("huey_consumer app.huey -k process")},
			"huey", EvidenceParent, "-k thread"},
		{"Airflow 3 LocalExecutor: spawn worker, airflow grandparent", Report{Framework: "multiprocessing", FrameworkEvidence: EvidenceReport},
			ToolSources{ParentName: "python3.12", ParentArgv: spawnWorker, GrandparentName: "airflow", GrandparentArgv: strings.Fields("/x/venv/bin/python3.12 /x/venv/bin/airflow scheduler")},
			"airflow", EvidenceGrandparent, "LocalExecutor"},
		{"a spawn worker's own fork is not a fork-context pool", Report{Framework: "multiprocessing", FrameworkEvidence: EvidenceReport},
			ToolSources{ParentName: "python3.12", ParentArgv: spawnWorker, GrandparentName: "python3.12", GrandparentArgv: strings.Fields("python3 train.py")},
			"", "", ""},
		{"xdist worker: pytest -n grandparent, not affected", Report{},
			ToolSources{ParentName: "python3", ParentArgv: []string{"python", "-c", "import sys;exec(eval(sys.stdin.readline()))"}, GrandparentName: "python3", GrandparentArgv: strings.Fields("python -m pytest -n 4")},
			"xdist", EvidenceGrandparent, "Not the tool"},
		{"venv contents alone: the only forking tool", Report{}, ToolSources{ParentName: "python3", ParentArgv: strings.Fields("python run.py"), Dists: ParseDists([]string{"rq-2.3.1.dist-info", "redis-5.0.1.dist-info", "tornado-6.4.dist-info"})},
			"rq", EvidenceVenv, "SpawnWorker"},
		{"venv contents with two tools name none", Report{}, ToolSources{ParentName: "python3", ParentArgv: strings.Fields("python run.py"), Dists: ParseDists([]string{"rq-2.3.1.dist-info", "celery-5.6.3.dist-info"})},
			"", "", ""},
		{"rq older than 2.2 has no SpawnWorker", Report{}, ToolSources{ParentName: "rq", ParentArgv: strings.Fields("/x/.venv/bin/python /x/.venv/bin/rq worker"), Dists: ParseDists([]string{"rq-1.15.1.dist-info"})},
			"rq", EvidenceParent, "older than 2.2"},
		{"billiard 4.3.0 with celery 5.6.3", Report{}, ToolSources{ParentName: "celery", ParentArgv: strings.Fields("celery -A app worker"), Dists: ParseDists([]string{"celery-5.6.3.dist-info", "billiard-4.3.0.dist-info"})},
			"celery", EvidenceParent, "billiard 4.3.0 with celery 5.6.3"},
		{"billiard 4.3.0rc1 already spawns", Report{}, ToolSources{ParentName: "celery", ParentArgv: strings.Fields("celery -A app worker"), Dists: ParseDists([]string{"celery-5.6.3.dist-info", "billiard-4.3.0rc1.dist-info"})},
			"celery", EvidenceParent, "billiard 4.3.0rc1 with celery 5.6.3"},
		{"pg's GSSAPI crash is kept over puma", Report{Framework: "pg", FrameworkEvidence: EvidenceReport}, ToolSources{ParentName: "ruby", ParentArgv: []string{"puma 6.4.0 (tcp://0.0.0.0:3000) [app]"}},
			"pg", EvidenceReport, "gssencmode: disable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.report
			r.ForkChild, r.ObjCForkSafety, r.Cause = true, true, CauseForkSafety
			r.Runtime = RuntimePython
			if tc.tool == "pg" {
				r.Runtime = RuntimeRuby
			}
			RecogniseTool(&r, tc.src)
			if r.Framework != tc.tool || r.FrameworkEvidence != tc.evidence {
				t.Fatalf("tool %q by %q, want %q by %q (evidence %q)", r.Framework, r.FrameworkEvidence, tc.tool, tc.evidence, r.Evidence)
			}
			if tc.fix == "" && r.Fix != "" || !strings.Contains(r.Fix, tc.fix) {
				t.Errorf("fix %q, want one saying %q", r.Fix, tc.fix)
			}
		})
	}
}

// TestApplyFixRuntimeAndCoreFoundation: a tool's fix only for its own
// runtime; CoreFoundation's check gets the exec/spawn fix, never the
// variable; an old Ruby gets the upgrade note.
func TestApplyFixRuntimeAndCoreFoundation(t *testing.T) {
	cases := []struct {
		tool, runtime, rubyVersion, cause string
		want                              string // substring of Fix; "" for none
	}{
		{"rq", RuntimePython, "", CauseCFFork, "rq.worker.SpawnWorker"},
		{"celery", RuntimePython, "", CauseCFFork, "-P solo"},
		{"airflow", RuntimePython, "", CauseCFFork, "forks and execs"},
		{"gunicorn", RuntimePython, "", CauseCFFork, ""},
		{"ansible", RuntimePython, "", CauseCFFork, ""},
		{"puma", RuntimeRuby, "", CauseCFFork, "workers 0"},
		{"gunicorn", RuntimeRuby, "", CauseForkSafety, ""},
		{"puma", RuntimePython, "", CauseForkSafety, ""},
		{"puma", RuntimeRuby, "3.1.2", CauseForkSafety, "lacks ruby#6426"},
		{"", RuntimeRuby, "3.0.4", CauseForkSafety, "backported to 3.1.3, 3.0.5 and 2.7.7"},
		{"", RuntimeRuby, "3.0.5", CauseForkSafety, ""},
		{"", RuntimeRuby, "2.7.7", CauseForkSafety, ""},
		{"", RuntimeRuby, "2.7.6", CauseForkSafety, "upgrade Ruby within its line"},
		{"solid_queue", RuntimeRuby, "", CauseForkSafety, "bin/jobs --mode async"},
		{"solid_queue", RuntimeRuby, "", CauseCFFork, "solid_queue_mode :async"},
		{"sidekiq", RuntimeRuby, "", CauseForkSafety, "Not the tool that forked"},
		{"multiprocess", RuntimePython, "", CauseForkSafety, "multiprocess.set_start_method('spawn', force=True)"},
		{"puma", RuntimeRuby, "3.3.0", CauseForkSafety, "Fiddle"},
		{"", RuntimeRuby, "2.6.5", CauseForkSafety, "upgrade Ruby"},
		{"", RuntimeRuby, "3.1", CauseForkSafety, ""},
		{"php-fpm", RuntimePHP, "", CauseForkSafety, "__objc_fork_ok"},
		{"cpm", RuntimePerl, "", CauseCFFork, ""},
	}
	for _, tc := range cases {
		lacks, known := RubyLacksForkFix(tc.rubyVersion) // as Classify keeps it
		r := &Report{Framework: tc.tool, ForkChild: true, Cause: tc.cause, Runtime: tc.runtime, rubyLacksForkFix: lacks && known}
		ApplyFix(r)
		if tc.want == "" && r.Fix != "" || !strings.Contains(r.Fix, tc.want) {
			t.Errorf("%s (%s %s, %s): fix %q, want %q", tc.tool, tc.runtime, tc.rubyVersion, tc.cause, r.Fix, tc.want)
		}
		if tc.cause == CauseCFFork && strings.Contains(r.Fix, "OBJC_DISABLE_INITIALIZE_FORK_SAFETY") {
			t.Errorf("%s: the variable offered for CoreFoundation's check: %q", tc.tool, r.Fix)
		}
	}
}

func TestSplitCommandLine(t *testing.T) {
	for _, argv := range [][]string{
		{"python3", "-c", "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5)", "--multiprocessing-fork"},
		{"puma 6.4.0 (tcp://0.0.0.0:3000) [app]"},
		{"ruby", "it's", "", "a\\b"},
	} {
		if got := splitCommandLine(joinCommand(argv)); strings.Join(got, "\x00") != strings.Join(argv, "\x00") {
			t.Errorf("splitCommandLine(joinCommand(%q)) = %q", argv, got)
		}
	}
}

func TestVersionBefore(t *testing.T) {
	cases := []struct {
		v, min     string
		before, ok bool
	}{
		{"3.1.2", "3.1.3", true, true}, {"3.1.3", "3.1.3", false, true}, {"3.2.0", "3.1.3", false, true},
		{"2.7", "3.1.3", true, true}, {"3.1", "3.1.3", false, false}, {"1.15.1", "2.2.0", true, true},
		{"2.10.0", "2.2.0", false, true}, {"4.3.0rc1", "4.3.0", false, false}, {"", "1", false, false},
	}
	for _, tc := range cases {
		if b, ok := versionBefore(tc.v, tc.min); b != tc.before || ok != tc.ok {
			t.Errorf("versionBefore(%q, %q) = %v, %v; want %v, %v", tc.v, tc.min, b, ok, tc.before, tc.ok)
		}
	}
}
