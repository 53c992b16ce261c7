package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The pool point (KindPool). A warm child has done every step that does not
// depend on the command: its namespaces, ID maps, cgroup, root filesystem and
// pivot_root. It then waits for one message on its socket: a PoolHeader at the
// start of Start.PoolBuf, followed by the argv, envp and path arrays and their
// strings, and the command's descriptors by SCM_RIGHTS. The parent lays the
// message out in its own copy of the buffer, which the clone gave the child at
// the same address (or, for a shared child, in the very buffer of its
// SharedMem, which the child's receive then overwrites with the same bytes), so
// the arrays' pointers are absolute and valid once the child has received the
// bytes. The child writes only uintptr-sized and smaller values into its Start,
// pointer-typed fields included: in fork mode into its own copy of the heap,
// which no collector scans; in shared mode into its copy of the Start in its
// SharedMem, outside the Go heap. Either way no write barrier is missed.

// PoolHeader is the fixed head of the message that KindPool receives.
type PoolHeader struct {
	// Argv, Envp and Paths are the addresses (in PoolBuf) of the NULL-terminated
	// arrays of Start.Argv and Start.Envp and of the NPaths candidates of
	// Start.Paths.
	Argv, Envp, Paths, NPaths uintptr
	// NFDs is the number of the target's descriptors: descriptor i is the
	// FDs[i]-th descriptor received, or closed where FDs[i] is -1.
	NFDs uintptr
	FDs  [MaxFDs]int32
}

// poolCmsgLen is the room for the control message of KindPool: a cmsghdr and
// up to MaxFDs descriptors.
const poolCmsgLen = 16 + 4*MaxFDs

// poolWait is KindPool: see PoolHeader.
//
//go:nosplit
//go:norace
func poolWait(errfd uintptr, s *Start) syscall.Errno {
	if s.PoolBuf == nil || s.PoolBufLen < unsafe.Sizeof(PoolHeader{}) {
		return syscall.EBADF
	}
	r := Report{Op: PoolOp}
	if e := writeAll(errfd, uintptr(unsafe.Pointer(&r)), unsafe.Sizeof(r)); e != 0 {
		return e
	}
	if e := closeOthers(errfd, s); e != 0 {
		return e
	}
	n, nfds, e := poolReceive(s)
	if e != 0 {
		return e
	}
	if n == 0 {
		exit(125) // the pool is closed, or the parent died: nothing to run
	}
	return poolApply(s, nfds)
}

// poolReceive receives the message into s.PoolBuf and the descriptors into the
// scratch's control buffer, close-on-exec. It returns the message's length (0 at
// EOF) and how many descriptors came.
//
//go:nosplit
//go:norace
func poolReceive(s *Start) (n uintptr, nfds int, e syscall.Errno) {
	iov := unix.Iovec{Base: s.PoolBuf, Len: uint64(s.PoolBufLen)}
	cmsg := &s.scratch.cmsg
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &cmsg[0], Controllen: poolCmsgLen}
	for {
		n, _, e = syscall.RawSyscall(unix.SYS_RECVMSG, uintptr(s.PoolFD), uintptr(unsafe.Pointer(&msg)), unix.MSG_CMSG_CLOEXEC)
		if e != syscall.EINTR {
			break
		}
	}
	if e != 0 || n == 0 {
		return n, 0, e
	}
	if msg.Flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n < unsafe.Sizeof(PoolHeader{}) {
		return n, 0, syscall.EMSGSIZE
	}
	if msg.Controllen >= 16 {
		l := *(*uint64)(unsafe.Pointer(&cmsg[0]))
		if l >= 16 && l <= poolCmsgLen {
			nfds = int(l-16) / 4
		}
	}
	syscall.RawSyscall(unix.SYS_CLOSE, uintptr(s.PoolFD), 0, 0)
	return n, nfds, 0
}

// poolApply fills the per-start fields of s from the received message: the
// target's descriptors, and Argv, Envp and Paths, written as uintptrs.
//
//go:nosplit
//go:norace
func poolApply(s *Start, nfds int) syscall.Errno {
	h := (*PoolHeader)(unsafe.Pointer(s.PoolBuf))
	if h.NFDs > MaxFDs {
		return syscall.EINVAL
	}
	cmsg := &s.scratch.cmsg
	for i := 0; i < int(h.NFDs) && i < MaxFDs; i++ {
		k := h.FDs[i]
		switch {
		case k < 0:
			s.FDs[i] = -1
		case int(k) < nfds && int(k) < MaxFDs:
			s.FDs[i] = *(*int32)(unsafe.Pointer(&cmsg[16+4*int(k)]))
		default:
			return syscall.EBADF
		}
	}
	s.NFDs = int32(h.NFDs)
	*(*uintptr)(unsafe.Pointer(&s.Argv)) = h.Argv
	*(*uintptr)(unsafe.Pointer(&s.Envp)) = h.Envp
	paths := (*[3]uintptr)(unsafe.Pointer(&s.Paths))
	paths[0], paths[1], paths[2] = h.Paths, h.NPaths, h.NPaths
	return 0
}

// closeOthers closes every descriptor of the child but those it still needs:
// its handshake's and the in-root steps'. A warm child waits long; what it
// inherited from starts cloned at the same time (their error pipes, other warm
// children's sockets) would otherwise stay open as long, and hide their ends.
//
//go:nosplit
//go:norace
func closeOthers(errfd uintptr, s *Start) syscall.Errno {
	sc := &s.scratch
	keep := [...]int32{int32(errfd), s.SyncFD, s.NotifyFD, s.TerminalFD, s.PoolFD, sc.root, sc.null, sc.empty, sc.tty, sc.timer}
	lo := uintptr(0)
	for {
		next := ^uintptr(0)
		for _, fd := range keep {
			if fd >= 0 && uintptr(fd) >= lo && uintptr(fd) < next {
				next = uintptr(fd)
			}
		}
		if next > lo {
			hi := next - 1
			if _, _, e := syscall.RawSyscall(unix.SYS_CLOSE_RANGE, lo, hi, 0); e != 0 {
				return e
			}
		}
		if next == ^uintptr(0) {
			return 0
		}
		lo = next + 1
	}
}
