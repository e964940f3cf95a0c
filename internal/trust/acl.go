package trust

import (
	"fmt"
	"strconv"
	"strings"
)

// macOS extended ACLs (chmod +a) can grant write to others while the mode
// bits say 0755: `chmod +a "group:everyone allow write,append" dir` lets
// every user add files to dir. The rule therefore reads the ACL too, on
// macOS through acl_get_link_np and acl_to_text (acl_darwin.go), and judges
// the text here, in plain Go tested everywhere.
//
// acl_to_text's format (Apple Libc, posix1e/acl_translate.c, acl_to_text):
// a first line "!#acl 1" with optional ACL flags, then one line per entry,
//
//	user|group:UUID:NAME:ID:allow|deny[,FLAG...][:PERM[,PERM...]]
//
// where NAME may be empty (an ID with no name) and the flags are
// inherited, file_inherit, directory_inherit, limit_inherit, only_inherit.
// A directory's add_file and add_subdirectory rights share their bits with
// write and append and print as those (the directory names are commented
// out of acl_perms there).

// aclWriteRights are the rights that let their holder change what a path
// leads to: write/add_file, append/add_subdirectory, delete, delete_child,
// writesecurity (the ACL and the mode) and chown.
var aclWriteRights = map[string]bool{
	"write": true, "append": true, "delete": true, "delete_child": true,
	"writesecurity": true, "chown": true,
}

// aclGrantsWrite returns why the ACL text lets someone other than uid (or
// root) change the file or folder, or "" when it does not. Deny entries only
// take rights away and only_inherit entries do not apply to the object
// itself, so neither counts. A group entry counts whatever the group, as
// the mode's group bit does. Text it cannot read is an error: the caller
// refuses the path.
func aclGrantsWrite(text string, uid int) (string, error) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "!#acl 1") {
		return "", fmt.Errorf("unreadable ACL header %q", firstLine(text))
	}
	for _, line := range lines[1:] {
		if line == "" {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 5 || len(f) > 6 || (f[0] != "user" && f[0] != "group") {
			return "", fmt.Errorf("unreadable ACL entry %q", line)
		}
		kind, name := f[0], f[2]
		id, err := strconv.Atoi(f[3])
		if err != nil {
			return "", fmt.Errorf("unreadable ACL entry %q: %v", line, err)
		}
		tagFlags := strings.Split(f[4], ",")
		if tagFlags[0] != "allow" && tagFlags[0] != "deny" {
			return "", fmt.Errorf("unreadable ACL entry %q", line)
		}
		if tagFlags[0] == "deny" || hasWord(tagFlags[1:], "only_inherit") {
			continue
		}
		if kind == "user" && (id == uid || id == 0) {
			continue
		}
		if len(f) < 6 {
			continue // no rights
		}
		var granted []string
		for _, p := range strings.Split(f[5], ",") {
			if aclWriteRights[p] {
				granted = append(granted, p)
			}
		}
		if len(granted) == 0 {
			continue
		}
		who := name
		if who == "" {
			who = strconv.Itoa(id)
		}
		return fmt.Sprintf("writable by others through its ACL (%s:%s allow %s)", kind, who, strings.Join(granted, ",")), nil
	}
	return "", nil
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
