package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The handover (KindHandover). setns(2) of a pid namespace moves only the
// joiner's later children into it, never the joiner: a target that should run in
// a joined pid namespace must be a child of the child that joined it. Without an
// init to stay behind as its parent, the child clones the target with
// CLONE_PARENT, which makes the target a child of the process that started the
// sandbox, tells that process the target's pid and exits. From then on the target
// is the start's process: the parent opens its pidfd (race-free: a child that
// nobody has waited for keeps its pid), waits for it, and reads its reports on
// the same error pipe. runc and crun fork twice for the same reason.
//
// The order of the reports matters: the parent must learn the target's pid
// before anything the target reports, or it could not reap it after a failure.
// So the target waits until the child has written its marker and gone: the child
// writes one byte on a pipe of their own after the marker, and its exit closes
// the pipe; a target that reads EOF instead of the byte was never handed over and
// exits.

// handover is KindHandover. In the child it returns only an errno of a step
// before the clone; after the clone the child reports the target and exits,
// and the target returns 0 once it has taken over (see takeOver). deathSig is the
// parent-death signal that the target sets again, or 0.
//
//go:nosplit
//go:norace
func handover(errfd, deathSig uintptr) syscall.Errno {
	parentfd := ^uintptr(0)
	if deathSig != 0 {
		ppid, _, _ := syscall.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		fd, _, e := syscall.RawSyscall(unix.SYS_PIDFD_OPEN, ppid, 0, 0)
		if e != 0 {
			return e
		}
		parentfd = fd
	}
	var handed [2]int32
	if _, _, e := syscall.RawSyscall(unix.SYS_PIPE2, uintptr(unsafe.Pointer(&handed[0])), unix.O_CLOEXEC, 0); e != 0 {
		return e
	}
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, unix.CLONE_PARENT|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid != 0 {
		r := Report{Op: HandoverOp, Pid: int32(pid)}
		if writeAll(errfd, uintptr(unsafe.Pointer(&r)), unsafe.Sizeof(r)) == 0 {
			writeAll(uintptr(handed[1]), uintptr(unsafe.Pointer(&zeroText[0])), 1)
		}
		exit(0)
	}
	return takeOver(uintptr(handed[0]), uintptr(handed[1]), parentfd, deathSig)
}

// takeOver is the target's half of KindHandover: it sets the parent-death
// signal, which the clone cleared, waits until the child that cloned it has
// reported it (a byte on the pipe handedR) and exited, and checks that the
// parent still lives, whose death before the signal was set would go unnoticed
// (getppid(2) says 0 for a parent outside the pid namespace: its pidfd tells).
// A target that was not handed over, or whose parent is gone, exits.
//
//go:nosplit
//go:norace
func takeOver(handedR, handedW, parentfd, deathSig uintptr) syscall.Errno {
	syscall.RawSyscall(unix.SYS_CLOSE, handedW, 0, 0)
	if deathSig != 0 {
		if _, _, e := syscall.RawSyscall(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, deathSig, 0); e != 0 {
			exit(125)
		}
	}
	var b [1]byte
	var n uintptr
	var e syscall.Errno
	for try := 0; try <= maxEINTR; try++ {
		n, _, e = syscall.RawSyscall(unix.SYS_READ, handedR, uintptr(unsafe.Pointer(&b[0])), 1)
		if e != syscall.EINTR {
			break
		}
	}
	syscall.RawSyscall(unix.SYS_CLOSE, handedR, 0, 0)
	if e != 0 || n != 1 || exited(parentfd) {
		exit(125) // the parent knows nothing of this process: nothing to report to
	}
	if parentfd != ^uintptr(0) {
		syscall.RawSyscall(unix.SYS_CLOSE, parentfd, 0, 0)
	}
	return 0
}

// exited reports whether the process of pidfd fd has exited (its pidfd polls
// readable), without waiting; a pidfd of -1 never has.
//
//go:nosplit
//go:norace
func exited(fd uintptr) bool {
	if fd == ^uintptr(0) {
		return false
	}
	pfd := unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	var zero unix.Timespec
	n, _, e := syscall.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
	return e == 0 && n == 1
}
