package appinfo

import (
	"runtime/debug"
	"testing"
)

func TestVersionFromBuildInfo(t *testing.T) {
	rev := "4d30ba9c0ffee1234567890abcdef1234567890a"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"go install @tag", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"go install @rc", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0-rc.1"}}, "v1.4.0-rc.1"},
		{"go install @main", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261126081100-4d30ba9c0ffe"}}, "v0.0.0-20261126081100-4d30ba9c0ffe"},
		{"checkout, clean", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("false")}, "4d30ba9c0ffe"},
		{"checkout, dirty", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")}, "4d30ba9c0ffe-dirty"},
		{"go1.24 pseudo from checkout", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261126081100-4d30ba9c0ffe+dirty"}, Settings: vcs("true")}, "4d30ba9c0ffe-dirty"},
		{"tagged checkout", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: vcs("false")}, "v1.4.0"},
		{"nothing recorded", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromBuildInfo(&tc.bi); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
