package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// startInit is KindInit, op i of ops: it forks the target and turns the calling
// child into the sandbox's init. It returns only in the target, once the init
// runs; PID 1 never returns, and a failure on either side ends in a Report and
// exit.
//
// All signals stay blocked in PID 1 from before the fork on, so that none sent to
// the sandbox is lost before the init waits for them; the target gets the mask of
// the moment back once released.
//
//go:nosplit
//go:norace
func startInit(ops []Op, i int, errfd uintptr, s *Start) {
	all := ^uint64(0)
	var old uint64
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		fail(errfd, InitOp, e)
	}
	if pid == 0 {
		if e := targetSession(s); e != 0 {
			fail(errfd, InitOp, e)
		}
		awaitInit()
		syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
		return
	}
	becomeInit(ops, i, pid, errfd)
}

// targetSession gives the target of KindInit a session of its own with its
// controlling terminal, where the Start leaves the terminal to it
// (Start.CttyInTarget): the init, which started a session before the fork, took
// none.
//
//go:nosplit
//go:norace
func targetSession(s *Start) syscall.Errno {
	if !s.CttyInTarget || s.Ctty < 0 {
		return 0
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_SETSID, 0, 0, 0); e != 0 {
		return e
	}
	_, _, e := syscall.RawSyscall(unix.SYS_IOCTL, uintptr(s.Ctty), unix.TIOCSCTTY, 0)
	return e
}

// awaitInit holds the target back until the init runs, so that a sandbox whose
// init cannot start never runs its target: the init's first act is to send the
// target SIGCONT, which waits here, blocked, to be taken; a PID 1 that fails kills
// the target instead. Waiting takes no descriptor, which a low RLIMIT_NOFILE could
// refuse.
//
//go:nosplit
//go:norace
func awaitInit() {
	set := uint64(1) << (unix.SIGCONT - 1)
	for {
		_, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&set)), 0, 0, 8, 0, 0)
		if e != syscall.EINTR {
			return
		}
	}
}

// becomeInit is PID 1's half of KindInit, op i of ops: it gives itself what the
// target still gets after the fork (its seccomp filter, and without no_new_privs
// its user and capabilities), lets every descriptor close on exec, and executes
// the init from its sealed memfd with an empty environment. Nothing of the
// caller's memory, environment or descriptors survives that exec.
//
// Landlock is the one restriction PID 1 does not take: a memfd lies beneath no
// Landlock rule, so a ruleset that handles execution (every one does) would
// forbid the exec. That leaves the target no way in: a process in a Landlock
// domain can neither trace nor open the memory of one outside it, whatever its
// capabilities, and PID 1 is outside the target's.
//
//go:nosplit
//go:norace
func becomeInit(ops []Op, i int, target, errfd uintptr) {
	if i < 0 || i >= len(ops) {
		initFail(errfd, target, InitOp, syscall.EINVAL) // not reached: i is the KindInit op
		return
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 0, ^uintptr(0), unix.CLOSE_RANGE_CLOEXEC); e != 0 {
		initFail(errfd, target, InitExecOp, e)
	}
	for j := i + 1; j < len(ops); j++ {
		if e := initStep(&ops[j]); e != 0 && !ignored(ops[j].Flags, e) {
			initFail(errfd, target, int32(j), e)
		}
	}
	initFail(errfd, target, InitExecOp, execInit(&ops[i], target))
}

// initStep applies one op that follows KindInit to PID 1, as the target applies
// it to itself; see becomeInit.
//
//go:nosplit
//go:norace
func initStep(op *Op) syscall.Errno {
	switch op.Kind {
	case KindSyscall:
		_, _, e := syscall.RawSyscall6(op.Trap, op.Args[0], op.Args[1], op.Args[2], op.Args[3], op.Args[4], op.Args[5])
		return e
	case KindSeccomp:
		// The target's filter, without a listener: the supervisor gets the
		// target's alone. A notifying rule answers the init with ENOSYS.
		_, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, op.Args[1]&^unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, op.Args[0])
		return e
	case KindLandlock, KindSignalMask, KindHold:
		return 0 // see becomeInit; the init keeps every signal blocked, and only the target is held
	}
	return syscall.EINVAL
}

// execInit executes the init of op (KindInit) as "paddock-init TARGET" with an
// empty environment, and returns only if that failed. The pid is formatted into
// a buffer on the stack: at most 10 digits and the NUL.
//
//go:nosplit
//go:norace
func execInit(op *Op, target uintptr) syscall.Errno {
	var num [12]byte
	k := len(num) - 2 // num[11] stays NUL
	for ; k > 0; k-- {
		num[k] = byte('0' + target%10)
		target /= 10
		if target == 0 {
			break
		}
	}
	if k < 0 || k >= len(num) {
		return syscall.EINVAL // not reached; lets the compiler drop the bounds check
	}
	argv := [3]*byte{(*byte)(op.Ptr), &num[k], nil}
	envp := [1]*byte{nil}
	var empty [1]byte
	_, _, e := syscall.RawSyscall6(unix.SYS_EXECVEAT, op.Args[0], uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return e
}

// initFail is fail for PID 1 once the target has been forked: it kills the
// target first, which has not run yet (see awaitInit).
//
//go:nosplit
//go:norace
func initFail(errfd, target uintptr, i int32, e syscall.Errno) {
	syscall.RawSyscall(unix.SYS_KILL, target, uintptr(unix.SIGKILL), 0)
	fail(errfd, i, e)
}

// landlock builds the ruleset of r on the paths as the child now sees them (after
// pivot_root) and enforces it.
//
//go:nosplit
//go:norace
func landlock(r *LandlockRules) syscall.Errno {
	attr, paths, rights := r.Attr, r.Paths, r.Access
	if len(attr) == 0 {
		return syscall.EINVAL
	}
	rs, _, e := syscall.RawSyscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)), 0)
	if e != 0 {
		if !r.Strict && (e == syscall.ENOSYS || e == syscall.EOPNOTSUPP) {
			return 0
		}
		return e
	}
	for i := range paths {
		if i >= len(rights) {
			break
		}
		fd, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWD, paths[i], unix.O_PATH|unix.O_CLOEXEC, 0, 0, 0)
		if e != 0 {
			syscall.RawSyscall(unix.SYS_CLOSE, rs, 0, 0)
			return e
		}
		access := rights[i]
		var st unix.Stat_t
		if _, _, e := syscall.RawSyscall(unix.SYS_FSTAT, fd, uintptr(unsafe.Pointer(&st)), 0); e == 0 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			access &= r.FileAccess
		}
		// struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
		var pb [12]byte
		*(*uint64)(unsafe.Pointer(&pb[0])) = access
		*(*int32)(unsafe.Pointer(&pb[8])) = int32(fd)
		_, _, e = syscall.RawSyscall6(unix.SYS_LANDLOCK_ADD_RULE, rs, unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&pb[0])), 0, 0, 0)
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		if e != 0 {
			syscall.RawSyscall(unix.SYS_CLOSE, rs, 0, 0)
			return e
		}
	}
	_, _, e = syscall.RawSyscall(unix.SYS_LANDLOCK_RESTRICT_SELF, rs, 0, 0)
	syscall.RawSyscall(unix.SYS_CLOSE, rs, 0, 0)
	return e
}

// loadSeccomp installs the filter and, when it has a user-notification listener,
// sends the listener to the parent with SCM_RIGHTS.
//
//go:nosplit
//go:norace
func loadSeccomp(prog, flags uintptr, notifyfd int32) syscall.Errno {
	fd, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, prog)
	if e != 0 {
		return e
	}
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
		return 0
	}
	if notifyfd < 0 {
		return syscall.EBADF
	}
	e = sendFD(uintptr(notifyfd), fd)
	syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	return e
}

//go:nosplit
//go:norace
func sendFD(sock, fd uintptr) syscall.Errno {
	var b [1]byte
	iov := unix.Iovec{Base: &b[0], Len: 1}
	// struct cmsghdr {len u64; level i32; type i32} followed by the int, padded to 8.
	var cmsg [24]byte
	*(*uint64)(unsafe.Pointer(&cmsg[0])) = 20
	*(*int32)(unsafe.Pointer(&cmsg[8])) = unix.SOL_SOCKET
	*(*int32)(unsafe.Pointer(&cmsg[12])) = unix.SCM_RIGHTS
	*(*int32)(unsafe.Pointer(&cmsg[16])) = int32(fd)
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &cmsg[0], Controllen: 24}
	for try := 0; ; try++ {
		_, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, sock, uintptr(unsafe.Pointer(&msg)), 0)
		if e != syscall.EINTR || try == maxEINTR {
			return e
		}
	}
}

// loopbackUp sets IFF_UP on "lo" with the SIOCGIFFLAGS and SIOCSIFFLAGS ioctls on
// a datagram socket; struct ifreq is 40 bytes: the name, then the flags (short).
//
//go:nosplit
//go:norace
func loopbackUp() syscall.Errno {
	fd, _, e := syscall.RawSyscall(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if e != 0 {
		return e
	}
	var ifr [40]byte
	ifr[0], ifr[1] = 'l', 'o'
	if _, _, e = syscall.RawSyscall(unix.SYS_IOCTL, fd, unix.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e == 0 {
		*(*uint16)(unsafe.Pointer(&ifr[16])) |= unix.IFF_UP
		_, _, e = syscall.RawSyscall(unix.SYS_IOCTL, fd, unix.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0])))
	}
	syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	return e
}
