package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// pid1 reports what this process can learn of PID 1 through /proc and ptrace, and
// whether any of secrets appears in what it could read. One line per source:
//
//	NAME ERRNO FOUND DETAIL
//
// ERRNO is 0 when the source could be read, FOUND the indexes (from 0) of the
// secrets found in it, comma-separated, or "-", and DETAIL what was read, quoted
// (for mem, how many bytes; for fd, the descriptors listed). The first line,
// "self PID - """, gives the probe's own pid in place of an errno.
func pid1(secrets []string) {
	fmt.Printf("self %d - %q\n", os.Getpid(), "")
	for _, name := range []string{"environ", "cmdline", "maps"} {
		data, err := os.ReadFile("/proc/1/" + name)
		report(name, err, found(data, secrets), string(data))
	}
	n, hits, err := scanMem(secrets)
	report("mem", err, hits, strconv.FormatInt(n, 10)+" bytes")
	ents, err := os.ReadDir("/proc/1/fd")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	report("fd", err, "-", strings.Join(names, " "))
	runtime.LockOSThread()
	report("ptrace-seize", ptrace(unix.PTRACE_SEIZE), "-", "")
	report("ptrace-attach", ptrace(unix.PTRACE_ATTACH), "-", "")
}

func report(name string, err error, hits, detail string) {
	fmt.Printf("%s %d %s %q\n", name, errnoOf(err), hits, detail)
}

func errnoOf(err error) int {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	if se, ok := err.(*os.SyscallError); ok {
		err = se.Err
	}
	if x, ok := err.(syscall.Errno); ok {
		e = x
	} else {
		e = syscall.EIO
	}
	return int(e)
}

// found returns the indexes of the secrets that occur in data, or "-".
func found(data []byte, secrets []string) string {
	var idx []string
	for i, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			idx = append(idx, strconv.Itoa(i))
		}
	}
	if idx == nil {
		return "-"
	}
	return strings.Join(idx, ",")
}

// scanMem reads every readable mapping of PID 1 listed in /proc/1/maps through
// /proc/1/mem, as a root process inside the sandbox would, and searches it for the
// secrets. It returns how many bytes it read.
func scanMem(secrets []string) (int64, string, error) {
	mem, err := os.Open("/proc/1/mem")
	if err != nil {
		return 0, "-", err
	}
	defer mem.Close()
	maps, err := os.ReadFile("/proc/1/maps")
	if err != nil {
		return 0, "-", err
	}
	hit := map[int]bool{}
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[1][0] != 'r' {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end > 1<<63 {
			continue // [vsyscall] lies beyond what an offset can say
		}
		total += scanRange(mem, start, end, secrets, hit)
	}
	var idx []string
	for i := range secrets {
		if hit[i] {
			idx = append(idx, strconv.Itoa(i))
		}
	}
	if idx == nil {
		return total, "-", nil
	}
	return total, strings.Join(idx, ","), nil
}

// scanRange searches [start, end) of mem in chunks that overlap by the longest
// secret, so that none is missed at a chunk's edge.
func scanRange(mem *os.File, start, end uint64, secrets []string, hit map[int]bool) int64 {
	overlap := 0
	for _, s := range secrets {
		overlap = max(overlap, len(s))
	}
	buf := make([]byte, 1<<20+overlap)
	var total int64
	keep := 0
	for off := start; off < end; {
		n := min(uint64(1<<20), end-off)
		m, err := unix.Pread(int(mem.Fd()), buf[keep:keep+int(n)], int64(off))
		if m <= 0 || err != nil {
			return total // [vvar] and guard pages do not read
		}
		total += int64(m)
		for i, s := range secrets {
			if bytes.Contains(buf[:keep+m], []byte(s)) {
				hit[i] = true
			}
		}
		keep = copy(buf, buf[max(0, keep+m-overlap):keep+m])
		off += uint64(m)
	}
	return total
}

// ptrace tries to attach to PID 1 with req (PTRACE_SEIZE or PTRACE_ATTACH) and,
// where that works, detaches again, leaving PID 1 running.
func ptrace(req int) error {
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PTRACE, uintptr(req), 1, 0, 0, 0, 0); e != 0 {
		return e
	}
	if req == unix.PTRACE_SEIZE {
		unix.PtraceInterrupt(1)
	}
	var ws unix.WaitStatus
	unix.Wait4(1, &ws, unix.WALL, nil)
	return unix.PtraceDetach(1)
}
