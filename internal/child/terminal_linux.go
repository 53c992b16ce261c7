package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The terminal of a sandbox.
//
// A pseudo-terminal belongs to the devpts instance whose ptmx opened it. A
// sandbox with a /dev/pts of its own (a new instance) does not see one opened on
// the host's /dev/ptmx: its peer is a /dev/pts/N of another instance, which
// tty(1), ttyname(3) and whatever reopens its terminal by name look for in vain.
// As runc and crun do, the child opens the terminal in the sandbox's own devpts
// once it is mounted, keeps the peer as the target's standard streams and
// controlling terminal, and sends the master to the parent over a unix socket
// (SCM_RIGHTS).

// TerminalPeer, in Start.FDs, stands for the peer of the terminal that a
// KindTerminalIn step opened.
const TerminalPeer int32 = -2

var ptmxName = [...]byte{'p', 't', 'm', 'x', 0}

// terminalIn is KindTerminalIn for start s: it opens the terminal in the devpts
// directory op.Ptr names inside the root, keeps its peer in the scratch and sends
// its master to the parent. It returns the phase that failed with the errno.
//
//go:nosplit
//go:norace
func terminalIn(op *Op, s *Start) (int32, syscall.Errno) {
	r := (*InRoot)(op.Ptr)
	if s.TerminalFD < 0 {
		return PhaseStep, 0 // this start has no terminal, or one of the host's
	}
	if r == nil {
		return PhaseStep, syscall.EINVAL
	}
	sc := &s.scratch
	dir, e := resolveIn(sc, r)
	if e != 0 {
		return PhaseResolve, e
	}
	m, e := openPTMX(sc, dir)
	syscall.RawSyscall6(unix.SYS_CLOSE, dir, 0, 0, 0, 0, 0)
	if e != 0 {
		return PhaseStep, e
	}
	e = openPeer(sc, m, &s.TerminalSize, op.Args[0])
	if e == 0 {
		e = sendFD(uintptr(s.TerminalFD), m)
	}
	syscall.RawSyscall6(unix.SYS_CLOSE, m, 0, 0, 0, 0, 0)
	return PhaseStep, e
}

// openPTMX opens a new terminal's master in dir, which must be a devpts (else
// ENOTTY): its "ptmx" is then the kernel's multiplexer, the device 5:2, whatever
// the root filesystem holds.
//
//go:nosplit
//go:norace
func openPTMX(sc *scratch, dir uintptr) (uintptr, syscall.Errno) {
	if e := onDevpts(sc, dir); e != 0 {
		return 0, e
	}
	m, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, dir, uintptr(unsafe.Pointer(&ptmxName[0])),
		unix.O_RDWR|unix.O_NOCTTY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_FSTAT, m, uintptr(unsafe.Pointer(&sc.st)), 0, 0, 0, 0)
	if e == 0 && (sc.st.Mode&unix.S_IFMT != unix.S_IFCHR || sc.st.Rdev != ptmxDev) {
		e = syscall.ENOTTY
	}
	if e == 0 {
		e = onDevpts(sc, m)
	}
	if e != 0 {
		syscall.RawSyscall6(unix.SYS_CLOSE, m, 0, 0, 0, 0, 0)
	}
	return m, e
}

// onDevpts checks that the descriptor fd is a file of a devpts: a mount on
// dir/ptmx (a bind of the host's /dev/ptmx, also 5:2, on devtmpfs) would open a
// terminal of the host's instance.
//
//go:nosplit
//go:norace
func onDevpts(sc *scratch, fd uintptr) syscall.Errno {
	if _, _, e := syscall.RawSyscall6(unix.SYS_FSTATFS, fd, uintptr(unsafe.Pointer(&sc.fs)), 0, 0, 0, 0); e != 0 {
		return e
	}
	if sc.fs.Type != unix.DEVPTS_SUPER_MAGIC {
		return syscall.ENOTTY
	}
	return 0
}

// ptmxDev is the device number of the ptmx of every devpts instance (5:2).
const ptmxDev = 5<<8 | 2

// openPeer unlocks the master m, sets its size ws (unless zero), opens its peer
// into sc.tty (by descriptor: no path lookup can swap it) and gives the peer to
// uid unless that is NoChown, as runc gives the target its standard streams.
//
//go:nosplit
//go:norace
func openPeer(sc *scratch, m uintptr, ws *unix.Winsize, uid uintptr) syscall.Errno {
	var unlock int32
	if _, _, e := syscall.RawSyscall6(unix.SYS_IOCTL, m, unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)), 0, 0, 0); e != 0 {
		return e
	}
	if ws.Row != 0 || ws.Col != 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_IOCTL, m, unix.TIOCSWINSZ, uintptr(unsafe.Pointer(ws)), 0, 0, 0); e != 0 {
			return e
		}
	}
	peer, _, e := syscall.RawSyscall6(unix.SYS_IOCTL, m, unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return e
	}
	closeFD(sc.tty)
	sc.tty = int32(peer)
	if uid != NoChown {
		_, _, e = syscall.RawSyscall6(unix.SYS_FCHOWN, peer, uid, 0xffffffff, 0, 0, 0)
	}
	return e
}
