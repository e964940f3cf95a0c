package project

import (
	"strings"

	"github.com/forkwatch/forkwatch/monitor/report"
)

// versionCaveats says what the project's pinned versions change about a
// finding, with report's version rules (one place for the crash path and
// `forkwatch check`). Where a verdict depends on a version the project does
// not pin, it says so.
func versionCaveats(f *Finding, v map[string]string) []string {
	var out []string
	switch f.Tool {
	case "solid_queue":
		sq := v["gem:solid_queue"]
		if has, known := report.SolidQueueHasAsync(sq); !known {
			if f.Forks {
				out = append(out, "The project pins no solid_queue version in Gemfile.lock: async mode needs solid_queue 1.3.0 or later.")
			}
		} else if !has {
			out = append(out, "Gemfile.lock has solid_queue "+report.Clean(sq, 32)+", which has no async mode: upgrade to 1.3.0 or later first.")
		}
	case "gunicorn":
		if g := v["py:gunicorn"]; g != "" {
			if sets, known := report.GunicornSetsTitle(g); known && !sets {
				out = append(out, "gunicorn "+report.Clean(g, 32)+" sets no process title on macOS (25 and later): its processes show as python.")
			}
		}
	case "rq", "rq-pool":
		if r := v["py:rq"]; r != "" {
			if has, known := report.RQHasSpawnWorker(r); known && !has {
				out = append(out, "requirements pin rq "+report.Clean(r, 32)+", older than 2.2, which has no SpawnWorker: upgrade rq first.")
			}
		} else if f.Forks {
			out = append(out, "The project pins no rq version: SpawnWorker needs rq 2.2 or later.")
		}
	case "celery":
		b := v["py:billiard"]
		spawns, known := report.BilliardSpawns(b)
		switch {
		case b != "" && known && spawns:
			// Still at risk: spawned, not forked, but with celery 5.6.3 or
			// older every prefork task fails there.
			out = append(out, "The project has billiard "+report.Clean(b, 32)+", which spawns prefork children on macOS (4.3.0rc1 and later): with celery 5.6.3 or older every prefork task fails (celery#10683).")
		case f.Forks && f.Mode != "celery beat" && (b == "" || !known):
			out = append(out, "The project pins no billiard version (nor has one installed): the prefork pool forks its children with billiard older than 4.3.0rc1, so this counts as at risk.")
		}
	}
	if strings.HasPrefix(rubyTool(f.Tool), "ruby") {
		if rv := v["ruby"]; rv != "" {
			if lacks, known := report.RubyLacksForkFix(rv); known && lacks {
				out = append(out, "Gemfile.lock names Ruby "+report.Clean(rv, 32)+", which lacks Ruby's own fork-safety fix (ruby#6426; 2.7.7, 3.0.5, 3.1.3 and 3.2 have it).")
			}
		}
	}
	return out
}

// rubyTool is "ruby" for a tool of the Ruby runtime.
func rubyTool(tool string) string {
	if fw, ok := report.FrameworkByName(tool); ok && fw.Runtime == report.RuntimeRuby {
		return "ruby"
	}
	return ""
}
