package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "call":
		for _, a := range os.Args[2:] {
			nr, args := parseCall(a)
			_, _, e := syscall.RawSyscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5])
			fmt.Println(int(e))
		}
	case "loop":
		if len(os.Args) != 4 {
			usage()
		}
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n <= 0 {
			usage()
		}
		nr, args := parseCall(os.Args[3])
		start := time.Now()
		for range n {
			syscall.RawSyscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5])
		}
		fmt.Println(float64(time.Since(start).Nanoseconds()) / float64(n))
	case "int80":
		if len(os.Args) != 3 {
			usage()
		}
		nr := parseNum(os.Args[2])
		syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0)
		syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
		r, ok := int80(uint32(nr))
		if !ok {
			fmt.Fprintln(os.Stderr, "sysprobe: int 0x80 is not available on this architecture")
			os.Exit(2)
		}
		fmt.Println(r)
	case "pid1":
		pid1(os.Args[2:])
	case "escape":
		escape()
	default:
		usage()
	}
}

func parseCall(s string) (uintptr, [6]uintptr) {
	var args [6]uintptr
	f := strings.Split(s, "/")
	if len(f) > 7 {
		usage()
	}
	for i, a := range f[1:] {
		args[i] = parseNum(a)
	}
	return parseNum(f[0]), args
}

func parseNum(s string) uintptr {
	neg := strings.HasPrefix(s, "-")
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "-"), 0, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sysprobe: bad number %q\n", s)
		os.Exit(2)
	}
	if neg {
		v = -v
	}
	return uintptr(v)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sysprobe call NR[/ARG...]... | loop N NR[/ARG...] | int80 NR | pid1 [SECRET...] | escape")
	os.Exit(2)
}
