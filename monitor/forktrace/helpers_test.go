package forktrace

import (
	"strconv"
	"syscall"
)

func itoa(n int) string { return strconv.Itoa(n) }

func mkfifo(p string) error { return syscall.Mkfifo(p, 0o600) }
