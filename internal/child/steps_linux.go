package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// initThenExec forks the target and turns the calling child into its init: PID 1 of
// the sandbox's pid namespace, which reaps every process re-parented to it, forwards
// every signal it receives to the target and exits with the target's status
// (128+N when the target was killed by signal N, as tini and catatonit do). It
// returns only in the forked target.
//
//go:nosplit
//go:norace
func initThenExec(s *Start, errfd uintptr) {
	all := ^uint64(0)
	var old uint64
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		fail(errfd, InitOp, e)
	}
	if pid == 0 {
		syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
		return
	}
	// The init holds nothing: the caller's pipes see EOF when the target closes them.
	syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 0, ^uintptr(0), 0)
	initLoop(pid, &all)
}

//go:nosplit
//go:norace
func initLoop(target uintptr, all *uint64) {
	var info [128]byte
	for {
		sig, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(all)), uintptr(unsafe.Pointer(&info[0])), 0, 8, 0, 0)
		if e != 0 {
			continue
		}
		if sig != uintptr(unix.SIGCHLD) {
			syscall.RawSyscall6(unix.SYS_KILL, target, sig, 0, 0, 0, 0)
			continue
		}
		for {
			var status uint32
			r, _, e := syscall.RawSyscall6(unix.SYS_WAIT4, ^uintptr(0), uintptr(unsafe.Pointer(&status)), unix.WNOHANG, 0, 0, 0)
			if e == syscall.EINTR {
				continue
			}
			if e != 0 || r == 0 {
				break
			}
			if r == target {
				if status&0x7f == 0 {
					exit(uintptr(status>>8) & 0xff)
				}
				exit(128 + uintptr(status&0x7f))
			}
		}
	}
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
	for {
		_, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, sock, uintptr(unsafe.Pointer(&msg)), 0)
		if e != syscall.EINTR {
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
