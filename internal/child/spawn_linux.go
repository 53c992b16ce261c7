package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The runtime's fork hooks. BeforeFork blocks signals and poisons the stack guard so
// that any stack-checked call in the child dies loudly; AfterFork undoes both in the
// parent. The runtime keeps them reachable by linkname on purpose (go.dev/issue/67401).

//go:linkname runtimeBeforeFork syscall.runtime_BeforeFork
func runtimeBeforeFork()

//go:linkname runtimeAfterFork syscall.runtime_AfterFork
func runtimeAfterFork()

// CloneArgs is struct clone_args of clone3(2).
type CloneArgs struct {
	Flags      uint64
	PidFD      uint64
	ChildTID   uint64
	ParentTID  uint64
	ExitSignal uint64
	Stack      uint64
	StackSize  uint64
	TLS        uint64
	SetTID     uint64
	SetTIDSize uint64
	Cgroup     uint64
}

// MaxCgroupFDs is how many cgroup files a start can join by writing (one per v1
// hierarchy).
const MaxCgroupFDs = 16

// MaxFDs is how many descriptors a sandboxed process can be given (stdio included).
const MaxFDs = 64

// MaxDetached is how many detached mounts (Program.Detach) a start can carry.
const MaxDetached = 32

// Start is the per-start half of the child's input: what differs between two starts
// of the same Program. The parent fills it before the clone; the child only reads it,
// but for its working memory (scratch), which is why a Start serves one start at a
// time.
type Start struct {
	Clone CloneArgs
	// SyncFD is the read end of the release pipe (KindWaitParent, KindCheckpoint),
	// or -1. It is close-on-exec.
	SyncFD int32
	// ErrFD is the write end of the error pipe; close-on-exec.
	ErrFD int32
	// NotifyFD is a unix socket to send a seccomp listener descriptor on, or -1.
	NotifyFD int32
	// TerminalFD is a unix socket to send the master of the terminal that
	// KindTerminalIn opens on, or -1 for a start without a terminal of the
	// sandbox's own. TerminalSize is that terminal's size; zero keeps the kernel's.
	TerminalFD   int32
	TerminalSize unix.Winsize
	// Ctty is the target descriptor to make the controlling terminal, or -1.
	Ctty int32
	// Setsid starts a new session before exec.
	Setsid bool
	// CttyInTarget leaves the controlling terminal to the target of a KindInit:
	// it starts a session of its own after the fork and takes Ctty there, so
	// that it leads its session in its pid namespace (which a joined one's init,
	// outside it, could not) and its shell has job control.
	CttyInTarget bool
	// CgroupFDs are the v1 "tasks" descriptors for KindJoinCgroups.
	NCgroupFDs int32
	CgroupFDs  [MaxCgroupFDs]int32
	// Detached holds, for the Program's Detached entries in order, descriptors of
	// detached mounts (open_tree with OPEN_TREE_CLONE) that the parent opened
	// before the clone, so that the child has them too, and changed afterwards
	// (an idmapping, which needs the child's user namespace) before it released
	// the child; NDetached counts them. KindAttach and KindBindIn (SourceDetached)
	// attach them.
	NDetached int32
	Detached  [MaxDetached]int32
	// Hostname holds the first HostnameLen bytes of the hostname that a
	// KindStartHostname step sets.
	HostnameLen int32
	Hostname    [64]byte
	// HoldPath is, for a held start (KindHold), the NUL-terminated path of the
	// O_PATH descriptor of its FIFO relative to the procfs of KindHold
	// ("self/fd/N"); empty for any other start.
	HoldPath [24]byte
	// NFDs is the number of descriptors the target gets: descriptor i is FDs[i],
	// closed when FDs[i] is -1, the peer of the sandbox's terminal when it is
	// TerminalPeer.
	NFDs int32
	FDs  [MaxFDs]int32
	// Paths are the NUL-terminated candidates for the executable, tried in order as
	// execvp does; Argv and Envp are NULL-terminated arrays of C strings.
	Paths []*byte
	Argv  **byte
	Envp  **byte
	// PoolFD is, for a warm child of a pool (KindPool), its end of the socket
	// over which the parent sends the command into PoolBuf, PoolBufLen bytes
	// reserved before the clone.
	PoolFD     int32
	PoolBuf    *byte
	PoolBufLen uintptr

	// deadline, when set (SetDeadline), bounds the child's life before exec.
	deadline deadline

	// scratch is the only part of a Start that the child writes.
	scratch scratch
}

// Report is what the child writes on the error pipe when a step fails.
type Report struct {
	Op    int32
	Errno int32
	// Phase says where an in-root step failed: PhaseResolve while resolving its
	// path inside the root, PhaseStep in its own work.
	Phase int32
	// Pid is, in the HandoverOp marker, the target's pid as the parent sees
	// it; 0 in every other Report.
	Pid int32
}

// ExecOp is the op index that a Report names when execve itself failed.
const ExecOp = -1

// InitOp is the op index that a Report names when the init could not fork the
// target (KindInit).
const InitOp = -2

// InitExecOp is the op index that a Report names when PID 1 could not execute the
// init (execveat of its memfd, or the close-on-exec sweep before it).
const InitExecOp = -4

// DeadlineOp is the op index that a Report names when the child could not arm
// the timer of its deadline (see SetDeadline).
const DeadlineOp = -5

// HoldOp is the op index of the marker Report that KindHold writes (with Errno
// 0) before it waits for the release: not a failure, but the child held before
// execve. A failure of the hold itself names the KindHold op.
const HoldOp = -6

// HandoverOp is the op index of the marker Report that KindHandover writes
// (with Errno 0) once it has cloned the target: Report.Pid names the target,
// which the parent is to wait for from then on, and the child that wrote it
// exits.
const HandoverOp = -7

// PoolOp is the op index of the marker Report that KindPool writes (with Errno
// 0) once the child is warm: set up up to the pool point, and waiting for its
// command.
const PoolOp = -8

// CheckpointOp is the op index of the marker Report that KindCheckpoint writes
// (with Errno 0): not a failure, but the child waiting for the parent's work and a
// byte on the sync pipe. A parent reading the error pipe must tell it apart from a
// failure and keep reading afterwards.
const CheckpointOp = -3

// Spawn clones the calling process and runs p in the child, which ends in execve of
// s.Paths or in a Report on s.ErrFD. It returns the child's pid in the parent.
//
// Spawn itself runs between BeforeFork and AfterFork in the parent, so it, and
// everything it calls, must not grow the stack.
//
//go:nosplit
//go:norace
func Spawn(p *Program, s *Start) (pid int, errno syscall.Errno) {
	runtimeBeforeFork()
	r1, _, e := syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&s.Clone)), unsafe.Sizeof(s.Clone), 0)
	if e != 0 || r1 != 0 {
		runtimeAfterFork()
		return int(r1), e
	}
	run(p.Ops, s)
	return 0, 0 // not reached: run ends in execve or exit
}

// run executes ops in the child and ends in execve or exit.
//
//go:nosplit
//go:norace
func run(ops []Op, s *Start) {
	errfd := uintptr(s.ErrFD)
	sc := &s.scratch
	sc.root, sc.null, sc.empty, sc.tty, sc.hold = -1, -1, -1, -1, -1
	for i := 0; i < len(ops); i++ {
		op := &ops[i]
		var e syscall.Errno
		phase := PhaseStep
		switch op.Kind {
		case KindSyscall:
			_, _, e = syscall.RawSyscall6(op.Trap, op.Args[0], op.Args[1], op.Args[2], op.Args[3], op.Args[4], op.Args[5])
		case KindWriteFile:
			e = writeFile(op.Args[0], op.Args[1], op.Args[2])
		case KindLandlock:
			e = landlock((*LandlockRules)(op.Ptr))
		case KindSeccomp:
			e = loadSeccomp(op.Args[0], op.Args[1], s.NotifyFD)
		case KindStdio:
			errfd, e = stdio(s, errfd)
		case KindLoopbackUp:
			e = loopbackUp()
		case KindJoinCgroups:
			e = joinCgroups(s)
		case KindWaitParent:
			e = waitParent(s.SyncFD)
		case KindCheckpoint:
			e = checkpoint(errfd, s.SyncFD)
		case KindSignalMask:
			_, _, e = syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&op.Args[0])), 0, 8, 0, 0)
		case KindOpenRoot:
			e = openRoot(sc, op.Args[0])
		case KindCloseRoots:
			closeRoots(sc)
		case KindEmptyMount:
			e = emptyMount(sc)
		case KindMountIn, KindBindIn, KindSetAttrIn, KindMaskIn, KindSourceIn, KindMknodIn, KindSymlinkIn, KindChdirIn:
			phase, e = inRoot(op, sc)
		case KindStartHostname:
			e = startHostname(s)
		case KindAttach:
			e = attachAt(s, op.Args[0], op.Args[1])
		case KindTerminalIn:
			phase, e = terminalIn(op, s)
		case KindInit:
			startInit(ops, i, errfd, s)
		case KindHold:
			e = hold(errfd, op.Args[0], s)
		case KindWriteProcIn:
			phase, e = writeProcIn(op, sc)
		case KindHandover:
			e = handover(errfd, op.Args[0])
		case KindPool:
			e = poolWait(errfd, s)
		case KindRerootCopy:
			e = rerootCopy(op.Args[0], op.Args[1])
		default:
			e = syscall.EINVAL
		}
		if e != 0 && !ignored(op.Flags, e) {
			failIn(errfd, int32(i), phase, e)
		}
	}
	execOrFail(s, errfd)
}

// execOrFail executes the target, or reports why it could not and exits. (Its
// own frame, not run's: run's is on the deepest chain of the child's stack.)
//
//go:nosplit
//go:norace
func execOrFail(s *Start, errfd uintptr) {
	e := execTarget(s)
	holdExecFailed(&s.scratch, e)
	fail(errfd, ExecOp, e)
}

// holdExecFailed tells the process that released a held start, which reads the
// FIFO until execve closes it, that execve failed with e: the errno as a native
// int32, after the byte of the release. The error pipe says it too, but its
// reader may be gone (a detached sandbox).
//
//go:nosplit
//go:norace
func holdExecFailed(sc *scratch, e syscall.Errno) {
	if sc.hold < 0 {
		return
	}
	v := int32(e)
	writeAll(uintptr(sc.hold), uintptr(unsafe.Pointer(&v)), 4)
}

//go:nosplit
//go:norace
func ignored(flags uint8, e syscall.Errno) bool {
	switch {
	case flags&IgnoreAll != 0:
		return true
	case e == syscall.ENOENT:
		return flags&IgnoreENOENT != 0
	case e == syscall.EEXIST:
		return flags&IgnoreEEXIST != 0
	case e == syscall.EINVAL:
		return flags&IgnoreEINVAL != 0
	case e == syscall.EACCES:
		return flags&IgnoreEACCES != 0
	}
	return false
}

// fail reports op i and errno e to the parent and exits.
//
//go:nosplit
//go:norace
func fail(errfd uintptr, i int32, e syscall.Errno) { failIn(errfd, i, PhaseStep, e) }

// failIn is fail for a step that failed in phase.
//
//go:nosplit
//go:norace
func failIn(errfd uintptr, i int32, phase int32, e syscall.Errno) {
	r := Report{Op: i, Errno: int32(e), Phase: phase}
	for try := 0; try < maxEINTR; try++ {
		_, _, we := syscall.RawSyscall(unix.SYS_WRITE, errfd, uintptr(unsafe.Pointer(&r)), unsafe.Sizeof(r))
		if we != syscall.EINTR {
			break
		}
	}
	exit(125)
}

// maxEINTR bounds the retries of a call that failed with EINTR. With every
// signal blocked the kernel hardly interrupts the child; a seccomp filter that
// answers a call with EINTR would, on every try.
const maxEINTR = 64

// exit ends the child. A seccomp filter may refuse exit_group (Build refuses the
// filters it can see doing that): then exit, and failing that a fault, whose
// SIGSEGV the kernel delivers past every mask and even to the init of a pid
// namespace, which it spares from every other signal without a handler.
//
//go:nosplit
//go:norace
func exit(code uintptr) {
	for {
		syscall.RawSyscall6(unix.SYS_EXIT_GROUP, code, 0, 0, 0, 0, 0)
		syscall.RawSyscall6(unix.SYS_EXIT, code, 0, 0, 0, 0, 0)
		*faultAt = 0
	}
}

// faultAt is nil: storing through it faults.
var faultAt *uintptr

//go:nosplit
//go:norace
func writeAll(fd, buf, n uintptr) syscall.Errno {
	for try := 0; n > 0; {
		w, _, e := syscall.RawSyscall(unix.SYS_WRITE, fd, buf, n)
		if e == syscall.EINTR && try < maxEINTR {
			try++
			continue
		}
		if e != 0 {
			return e
		}
		if w == 0 {
			return syscall.EIO
		}
		buf += w
		n -= w
	}
	return 0
}

//go:nosplit
//go:norace
func writeFile(path, buf, n uintptr) syscall.Errno {
	fd, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWD, path, unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return e
	}
	e = writeAll(fd, buf, n)
	syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	return e
}

// atFDCWD is AT_FDCWD (-100) as a syscall argument.
const atFDCWD = ^uintptr(99)

var tmpfsName = [...]byte{'t', 'm', 'p', 'f', 's', 0}

var zeroText = [1]byte{'0'}

//go:nosplit
//go:norace
func joinCgroups(s *Start) syscall.Errno {
	for i := 0; i < int(s.NCgroupFDs) && i < MaxCgroupFDs; i++ {
		if e := writeAll(uintptr(s.CgroupFDs[i]), uintptr(unsafe.Pointer(&zeroText[0])), 1); e != 0 {
			return e
		}
	}
	return 0
}

//go:nosplit
//go:norace
func waitParent(fd int32) syscall.Errno {
	var b [1]byte
	for {
		n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), 1)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		if n == 0 {
			exit(125) // the parent is gone: nobody waits for this sandbox
		}
		return 0
	}
}

// checkpoint tells the parent, with a Report naming CheckpointOp, that the child
// has reached this step, and waits for the parent to release it again.
//
//go:nosplit
//go:norace
func checkpoint(errfd uintptr, syncfd int32) syscall.Errno {
	if syncfd < 0 {
		return syscall.EBADF
	}
	r := Report{Op: CheckpointOp}
	if e := writeAll(errfd, uintptr(unsafe.Pointer(&r)), unsafe.Sizeof(r)); e != 0 {
		return e
	}
	return waitParent(syncfd)
}

// hold is KindHold: it tells the parent that the child waits, then opens the
// FIFO that s.HoldPath names in the procfs at procfd for writing, which blocks
// until a reader opens it, and writes one byte. It keeps the FIFO open, close
// on exec, so that the reader sees execve succeed as the end of the FIFO, or
// fail as its errno (holdExecFailed).
//
//go:nosplit
//go:norace
func hold(errfd, procfd uintptr, s *Start) syscall.Errno {
	if s.HoldPath[0] == 0 {
		return syscall.EBADF
	}
	if e := findTarget(s); e != 0 {
		fail(errfd, ExecOp, e) // as execve would have at the release
	}
	r := Report{Op: HoldOp}
	if e := writeAll(errfd, uintptr(unsafe.Pointer(&r)), unsafe.Sizeof(r)); e != 0 {
		return e
	}
	var fd uintptr
	var e syscall.Errno
	for try := 0; try < maxEINTR; try++ {
		fd, _, e = syscall.RawSyscall6(unix.SYS_OPENAT, procfd, uintptr(unsafe.Pointer(&s.HoldPath[0])), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
		if e != syscall.EINTR {
			break
		}
	}
	if e != 0 {
		return e
	}
	e = writeAll(fd, uintptr(unsafe.Pointer(&zeroText[0])), 1)
	if e != 0 {
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		return e
	}
	s.scratch.hold = int32(fd) // close-on-exec: execve closes it
	return 0
}

// findTarget checks, before a start holds, that one of the candidates for the
// executable (s.Paths) can be executed, as runc looks the program up in the
// container before create returns: a regular file, or any non-directory, that
// faccessat2(X_OK, AT_EACCESS) lets the target's user execute. It returns the
// errno that execve would give (ENOENT, or EACCES where a candidate was
// found but may not be executed), or 0. Where the kernel or a seccomp filter
// refuses the calls (ENOSYS, EPERM), it decides by the permission bits, or
// leaves the decision to execve. A program that appears or goes before the
// release is execve's to judge.
//
//go:nosplit
//go:norace
func findTarget(s *Start) syscall.Errno {
	best := syscall.ENOENT
	st := &s.scratch.st
	for i := 0; i < len(s.Paths); i++ {
		path := uintptr(unsafe.Pointer(s.Paths[i]))
		_, _, e := syscall.RawSyscall6(unix.SYS_NEWFSTATAT, atFDCWD, path, uintptr(unsafe.Pointer(st)), 0, 0, 0)
		switch {
		case e == syscall.ENOSYS || e == syscall.EPERM:
			return 0 // cannot tell: execve will
		case e == syscall.EACCES:
			best = e
			continue
		case e != 0:
			continue
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			best = syscall.EACCES
			continue
		}
		_, _, e = syscall.RawSyscall6(unix.SYS_FACCESSAT2, atFDCWD, path, unix.X_OK, unix.AT_EACCESS, 0, 0)
		if e == 0 || ((e == syscall.ENOSYS || e == syscall.EPERM) && st.Mode&0o111 != 0) {
			return 0
		}
		best = syscall.EACCES
	}
	return best
}

// stdio moves the target's descriptors into place, marks every other descriptor
// close-on-exec and sets up the session. It returns where the error pipe now is.
//
//go:nosplit
//go:norace
func stdio(s *Start, errfd uintptr) (uintptr, syscall.Errno) {
	n := int(s.NFDs)
	if n > MaxFDs {
		return errfd, syscall.EINVAL
	}
	var fds [MaxFDs]int32
	next := uintptr(n)
	for i := 0; i < n; i++ {
		fds[i] = s.FDs[i]
		if fds[i] == TerminalPeer {
			if fds[i] = s.scratch.tty; fds[i] < 0 {
				return errfd, syscall.EBADF
			}
		}
		if uintptr(fds[i]) >= next && fds[i] >= 0 {
			next = uintptr(fds[i]) + 1
		}
	}
	// Nothing that is still needed may sit in the range about to be overwritten.
	if errfd < next {
		r, _, e := syscall.RawSyscall(unix.SYS_FCNTL, errfd, unix.F_DUPFD_CLOEXEC, next)
		if e != 0 {
			return errfd, e
		}
		errfd = r
		next = r + 1
	}
	for i := 0; i < n; i++ {
		if fds[i] >= 0 && int(fds[i]) < i {
			r, _, e := syscall.RawSyscall(unix.SYS_FCNTL, uintptr(fds[i]), unix.F_DUPFD_CLOEXEC, next)
			if e != 0 {
				return errfd, e
			}
			fds[i] = int32(r)
			next = r + 1
		}
	}
	for i := 0; i < n; i++ {
		var e syscall.Errno
		switch {
		case fds[i] < 0:
			syscall.RawSyscall(unix.SYS_CLOSE, uintptr(i), 0, 0)
		case int(fds[i]) == i:
			_, _, e = syscall.RawSyscall(unix.SYS_FCNTL, uintptr(i), unix.F_SETFD, 0)
		default:
			_, _, e = syscall.RawSyscall(unix.SYS_DUP3, uintptr(fds[i]), uintptr(i), 0)
		}
		if e != 0 {
			return errfd, e
		}
	}
	// Leaked host descriptors are how CVE-2024-21626 escaped: mark all the rest.
	if _, _, e := syscall.RawSyscall(unix.SYS_CLOSE_RANGE, uintptr(n), ^uintptr(0), unix.CLOSE_RANGE_CLOEXEC); e != 0 {
		return errfd, e
	}
	if s.Setsid {
		if _, _, e := syscall.RawSyscall(unix.SYS_SETSID, 0, 0, 0); e != 0 {
			return errfd, e
		}
	}
	if s.Ctty >= 0 && !s.CttyInTarget {
		if _, _, e := syscall.RawSyscall(unix.SYS_IOCTL, uintptr(s.Ctty), unix.TIOCSCTTY, 0); e != 0 {
			return errfd, e
		}
	}
	return errfd, 0
}

// execTarget tries each candidate path as execvp does and returns the errno that
// best explains the failure.
//
//go:nosplit
//go:norace
func execTarget(s *Start) syscall.Errno {
	best := syscall.ENOENT
	for i := 0; i < len(s.Paths); i++ {
		_, _, e := syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(s.Paths[i])), uintptr(unsafe.Pointer(s.Argv)), uintptr(unsafe.Pointer(s.Envp)))
		switch e {
		case syscall.ENOENT, syscall.ENOTDIR:
		case syscall.EACCES, syscall.EPERM:
			best = e
		default:
			return e
		}
	}
	return best
}

// startHostname sets the hostname of this start (Start.Hostname).
//
//go:nosplit
//go:norace
func startHostname(s *Start) syscall.Errno {
	n := uintptr(s.HostnameLen)
	if n > uintptr(len(s.Hostname)) {
		return syscall.EINVAL
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_SETHOSTNAME, uintptr(unsafe.Pointer(&s.Hostname[0])), n, 0, 0, 0, 0)
	return e
}
