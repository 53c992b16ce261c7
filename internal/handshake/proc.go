package handshake

import (
	"fmt"
	"io"
	"syscall"
	"time"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

// atFDCWD is unix.AT_FDCWD as a raw system call argument. It is a variable: the
// constant -100 does not convert to uintptr.
var atFDCWD = unix.AT_FDCWD

// procPath builds /proc/PID/name, NUL-terminated, in buf.
func procPath(buf []byte, pid int, name string) []byte {
	buf = append(buf, "/proc/"...)
	buf = appendInt(buf, pid)
	buf = append(buf, '/')
	buf = append(buf, name...)
	return append(buf, 0)
}

// WriteProcFile writes data to /proc/PID/name in one write, as the files of a
// user namespace (uid_map, gid_map, setgroups) must be written.
func WriteProcFile(pid int, name string, data []byte) error {
	var buf [48]byte
	path := procPath(buf[:0], pid, name)
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&path[0])), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return e
	}
	defer unix.Close(int(fd))
	n, err := unix.Write(int(fd), data)
	if err != nil {
		return err
	}
	if n != len(data) {
		return io.ErrShortWrite
	}
	return nil
}

func appendInt(b []byte, n int) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// ReadReport waits on the error pipe's read end fd for exec (EOF, ok false) or
// the child's report of a failure or a checkpoint.
func ReadReport(fd int) (r child.Report, ok bool, err error) {
	buf := (*[unsafe.Sizeof(r)]byte)(unsafe.Pointer(&r))[:]
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return r, false, fmt.Errorf("sandbox: read the child's report: %w", err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	switch {
	case n == 0:
		return r, false, nil
	case n < len(buf):
		return r, false, fmt.Errorf("sandbox: short report from the child (%d bytes)", n)
	}
	return r, true, nil
}

// ExitInfo is the start of the siginfo_t that waitid(2) fills for a child: the
// signal fields, then si_pid, si_uid and si_status.
type ExitInfo struct {
	Signo, Errno, Code, _ int32
	Pid                   int32
	UID                   uint32
	// Status is the exit status where Code is CLDExited, else the signal.
	Status int32
	_      [128 - 28]byte
}

// CLDExited is the ExitInfo.Code of a child that exited (rather than was killed).
const CLDExited = 1

// ChildExit reports whether the child of pidfd has exited, and how, leaving it to
// be reaped.
func ChildExit(pidfd int) (ExitInfo, bool) {
	var info ExitInfo
	_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PIDFD, uintptr(pidfd), uintptr(unsafe.Pointer(&info)),
		unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, 0, 0)
	if e != 0 {
		return info, e == unix.ECHILD // reaped already
	}
	return info, info.Pid != 0
}

// AwaitExit waits, up to five seconds, until the child of pidfd can be waited for
// (its pidfd becomes readable), and returns how it ended, leaving it to be reaped.
func AwaitExit(pidfd int) ExitInfo {
	pfd := [1]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd[:], 5000); err != unix.EINTR {
			break
		}
	}
	info, _ := ChildExit(pidfd)
	return info
}

// pfForkNoExec is the kernel's PF_FORKNOEXEC: set in a process that fork made and
// cleared by execve.
const pfForkNoExec = 0x40

// NeverExecuted reports whether our child pid (alive, dying or a zombie not yet
// reaped) never called execve: PF_FORKNOEXEC is still set in the flags of
// /proc/PID/stat. The same line must name this process as the parent: a /proc
// of another pid namespace than the caller's (a caller in a pid namespace of its
// own, under the host's /proc) shows another process under that number. Where it
// cannot tell, it says no.
func NeverExecuted(pid int) bool {
	var buf [32]byte
	path := procPath(buf[:0], pid, "stat")
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&path[0])), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return false
	}
	defer unix.Close(int(fd))
	var stat [1024]byte
	n, err := unix.Read(int(fd), stat[:])
	if err != nil || n <= 0 {
		return false
	}
	return forkedNoExec(stat[:n], uint64(unix.Getpid()))
}

// forkedNoExec reports whether the text of /proc/PID/stat names ppid as the
// parent and has PF_FORKNOEXEC set in the flags.
func forkedNoExec(text []byte, ppid uint64) bool {
	// The command name, in parentheses, may hold anything: count from the last ')'.
	i := len(text) - 1
	for i >= 0 && text[i] != ')' {
		i--
	}
	// The fields after it: state ppid pgrp session tty_nr tpgid flags.
	field, start := 0, -1
	for j := i + 1; j <= len(text); j++ {
		if j < len(text) && text[j] != ' ' {
			if start < 0 {
				start = j
			}
			continue
		}
		if start < 0 {
			continue
		}
		v, ok := decimal(text[start:j])
		switch field {
		case 1:
			if !ok || v != ppid {
				return false
			}
		case 6:
			return ok && v&pfForkNoExec != 0
		}
		field, start = field+1, -1
	}
	return false
}

// decimal parses an unsigned decimal number.
func decimal(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, len(b) > 0
}

// DeathCause says how a child that never executed its target ended, as reported
// by AwaitExit: an exit whose report was lost (EIO), or a signal (EINTR).
func DeathCause(info ExitInfo) (syscall.Errno, error) {
	if info.Code == CLDExited {
		return syscall.EIO, fmt.Errorf("the child exited with status %d before it executed the target, and its report was lost", info.Status)
	}
	sig := syscall.Signal(info.Status)
	err := fmt.Errorf("the child was killed by %v before it executed the target", sig)
	if sig == syscall.SIGSYS {
		err = fmt.Errorf("%w (a seccomp filter's kill?)", err)
	}
	return syscall.EINTR, err
}

// SetDeadline gives a vfork child the deadline that is left from now on: a
// timer of its own (child.Start.SetDeadline), which execve deletes.
func SetDeadline(s *child.Start, left time.Duration) error {
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
		return fmt.Errorf("sandbox: read the monotonic clock: %w", err)
	}
	s.SetDeadline(unix.NsecToTimespec(now.Nano() + int64(left)))
	return nil
}

// A MapError reports a file of the child's user namespace that could not be
// written.
type MapError struct {
	Name string // setgroups, gid_map or uid_map
	Data string // what was written
	Err  error
}

// Error implements the error interface.
func (e *MapError) Error() string { return "write /proc/PID/" + e.Name + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *MapError) Unwrap() error { return e.Err }

// WriteIDMaps writes setgroups, then the gid and uid maps of the user namespace
// of the waiting child pid. Where one fails, the error is a *MapError.
func WriteIDMaps(pid int, setgroups string, uidMap, gidMap []byte) error {
	var buf [16]byte
	if err := writeMapFile(pid, "setgroups", append(buf[:0], setgroups...)); err != nil {
		return err
	}
	if err := writeMapFile(pid, "gid_map", gidMap); err != nil {
		return err
	}
	return writeMapFile(pid, "uid_map", uidMap)
}

// writeMapFile is WriteProcFile, with a *MapError.
func writeMapFile(pid int, name string, data []byte) error {
	if err := WriteProcFile(pid, name, data); err != nil {
		return &MapError{Name: name, Data: string(data), Err: err}
	}
	return nil
}
