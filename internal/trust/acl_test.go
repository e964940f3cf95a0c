package trust

import (
	"strings"
	"testing"
)

// TestACLGrantsWrite: the ACL text as macOS's acl_to_text writes it (Apple
// Libc posix1e/acl_translate.c: "!#acl 1", then
// user|group:UUID:NAME:ID:allow|deny[,flags]:perms). The samples are real
// output: a home folder's "group:everyone deny delete" (every macOS home
// folder carries it; `ls -le ~` shows "0: group:everyone deny delete"), and
// `chmod +a "everyone deny write,writeattr,writeextattr,writesecurity,chown"`
// as printed by acl_to_text in HackTricks' macOS ACL notes; the allow
// entries are what `chmod +a "group:everyone allow write,append"` and the
// like produce (a folder's add_file/add_subdirectory print as write/append).
func TestACLGrantsWrite(t *testing.T) {
	const everyone = "group:ABCDEFAB-CDEF-ABCD-EFAB-CDEF0000000C:everyone:12"
	const staff = "group:ABCDEFAB-CDEF-ABCD-EFAB-CDEF00000014:staff:20"
	const me = "user:FFFFEEEE-DDDD-CCCC-BBBB-AAAA000001F5:alice:501"
	const other = "user:FFFFEEEE-DDDD-CCCC-BBBB-AAAA000001F6:bob:502"
	for _, tc := range []struct {
		name, text, want string // want: "" trusted, else a part of the reason
		bad              bool
	}{
		{"home folder", "!#acl 1\n" + everyone + ":deny:delete\n", "", false},
		{"deny list", "!#acl 1\n" + everyone + ":deny:write,writeattr,writeextattr,writesecurity,chown\n", "", false},
		{"everyone may add files", "!#acl 1\n" + everyone + ":allow:write,append\n", "group:everyone allow write,append", false},
		{"staff may delete entries", "!#acl 1\n" + staff + ":allow:read,execute,delete_child\n", "group:staff allow delete_child", false},
		{"another user may write", "!#acl 1\n" + other + ":allow:read,write\n", "user:bob allow write", false},
		{"inherited entry still applies", "!#acl 1\n" + other + ":allow,inherited:append\n", "user:bob allow append", false},
		{"only_inherit does not apply here", "!#acl 1\n" + other + ":allow,file_inherit,only_inherit:write\n", "", false},
		{"another user may change the ACL", "!#acl 1\n" + other + ":allow:writesecurity\n", "writesecurity", false},
		{"the user", "!#acl 1\n" + me + ":allow:write,delete\n", "", false},
		{"root", "!#acl 1\nuser:FFFFEEEE-DDDD-CCCC-BBBB-AAAA00000000:root:0:allow:write\n", "", false},
		{"read only", "!#acl 1\n" + everyone + ":allow:read,readattr,readextattr,readsecurity\n", "", false},
		{"an id without a name", "!#acl 1\nuser:FFFFEEEE-DDDD-CCCC-BBBB-AAAA000001F7::503:allow:write\n", "user:503 allow write", false},
		{"deny then allow", "!#acl 1\n" + everyone + ":deny:delete\n" + other + ":allow:chown\n", "user:bob allow chown", false},
		{"ACL flags on the header", "!#acl 1 defer_inherit\n" + everyone + ":deny:delete\n", "", false},
		{"no header", everyone + ":allow:write\n", "", true},
		{"garbage entry", "!#acl 1\nsomething\n", "", true},
		{"bad tag", "!#acl 1\n" + everyone + ":maybe:write\n", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why, err := aclGrantsWrite(tc.text, 501)
			if tc.bad {
				if err == nil && why == "" {
					t.Errorf("accepted %q", tc.text)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && why != "":
				t.Errorf("refused: %s", why)
			case tc.want != "" && !strings.Contains(why, tc.want):
				t.Errorf("reason %q, want %q", why, tc.want)
			}
		})
	}
}
