package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Call is a system call that the child makes once its seccomp filter is loaded,
// as the filter sees it: a filter that refuses, kills or holds one of them stops
// the child between the filter and the target.
type Call struct {
	Nr uintptr
	// Args are the call's arguments where a start cannot change them: the
	// constants and the addresses of the Program's own memory. Descriptors and
	// addresses of per-start memory are 0.
	Args [6]uint64
	// Optional says that the child goes on whatever errno the call fails with;
	// Flags are the Ignore flags of its op, the errnos it goes on after.
	Optional bool
	Flags    uint8
	// Fixed says that Args are all that the child passes, in every start.
	Fixed bool
}

// Tolerates reports whether the child goes on when the call fails with errno e.
// A call that it does not tolerate failing fails every start.
func (c Call) Tolerates(e syscall.Errno) bool { return c.Optional || ignored(c.Flags, e) }

// ReportSize is the size of a Report on the error pipe.
const ReportSize = unsafe.Sizeof(Report{})

// exitCalls are the calls that end every start that has loaded its filter: the
// target's execve, and the report and exit of a step that fails (or of execve).
var exitCalls = []Call{
	{Nr: unix.SYS_EXECVE},
	{Nr: unix.SYS_WRITE, Args: [6]uint64{2: uint64(ReportSize)}, Optional: true},
	{Nr: unix.SYS_EXIT_GROUP, Args: [6]uint64{125}, Fixed: true},
}

// poolCalls are the calls of the pool op (poolWait) from its marker on: the
// marker's report, the close of every other descriptor, the receipt of the
// command and the close of the pool's socket; a closed pool exits (exitCalls).
var poolCalls = []Call{
	{Nr: unix.SYS_WRITE, Args: [6]uint64{2: uint64(ReportSize)}},
	{Nr: unix.SYS_CLOSE_RANGE},
	{Nr: unix.SYS_RECVMSG, Args: [6]uint64{2: unix.MSG_CMSG_CLOEXEC}},
	{Nr: unix.SYS_CLOSE, Optional: true},
}

// CallsAfterPool returns the system calls that a warm child of p makes once it
// reaches its pool op, spliced in at op at: those of the pool op, of the ops
// from at on but the indices of moved, and exitCalls. Ops whose calls it does
// not know are left out and their kinds returned in unknown.
func (p *Program) CallsAfterPool(at int, moved ...int) (calls []Call, unknown []Kind) {
	calls = append(calls, poolCalls...)
next:
	for i := at; i < len(p.Ops); i++ {
		for _, m := range moved {
			if i == m {
				continue next
			}
		}
		c, known := opCalls(&p.Ops[i])
		if !known {
			unknown = append(unknown, p.Ops[i].Kind)
		}
		calls = append(calls, c...)
	}
	return append(calls, exitCalls...), unknown
}

// stdioCalls are the calls of the stdio op (stdio): the moves of the target's
// descriptors and of the error pipe, the close-on-exec sweep, and, as the
// command asks, a new session and its controlling terminal.
var stdioCalls = []Call{
	{Nr: unix.SYS_FCNTL, Args: [6]uint64{1: unix.F_DUPFD_CLOEXEC}},
	{Nr: unix.SYS_FCNTL, Args: [6]uint64{1: unix.F_SETFD}},
	{Nr: unix.SYS_CLOSE, Optional: true},
	{Nr: unix.SYS_DUP3},
	{Nr: unix.SYS_CLOSE_RANGE, Args: [6]uint64{1: ^uint64(0), 2: unix.CLOSE_RANGE_CLOEXEC}},
	{Nr: unix.SYS_SETSID},
	{Nr: unix.SYS_IOCTL, Args: [6]uint64{1: unix.TIOCSCTTY}},
}

// CallsAfterSeccomp returns the system calls that the child makes after loading
// the seccomp filter of p (its KindSeccomp op): the rest of that op, the ops that
// follow, and exitCalls. Ops whose calls it does not know (kinds that never follow
// the filter today) are left out and their kinds returned in unknown. ok is false
// when p loads no filter.
func (p *Program) CallsAfterSeccomp() (calls []Call, unknown []Kind, ok bool) {
	at := -1
	for i, op := range p.Ops {
		if op.Kind == KindSeccomp {
			at = i
			break
		}
	}
	if at < 0 {
		return nil, nil, false
	}
	if p.Ops[at].Args[1]&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		// The listener goes to the parent (loadSeccomp).
		calls = append(calls, Call{Nr: unix.SYS_SENDMSG}, Call{Nr: unix.SYS_CLOSE, Optional: true})
	}
	for i := at + 1; i < len(p.Ops); i++ {
		c, known := opCalls(&p.Ops[i])
		if !known {
			unknown = append(unknown, p.Ops[i].Kind)
		}
		calls = append(calls, c...)
	}
	return append(calls, exitCalls...), unknown, true
}

// opCalls returns the system calls of op, as the child makes them; known is false
// for a kind without a list.
func opCalls(op *Op) (calls []Call, known bool) {
	a := func(v ...uintptr) (r [6]uint64) {
		for i, x := range v {
			r[i] = uint64(x)
		}
		return r
	}
	f := op.Flags
	switch op.Kind {
	case KindSyscall:
		return []Call{{Nr: op.Trap, Args: a(op.Args[:]...), Flags: f, Fixed: true}}, true
	case KindSignalMask:
		return []Call{{Nr: unix.SYS_RT_SIGPROCMASK, Args: a(unix.SIG_SETMASK, uintptr(unsafe.Pointer(&op.Args[0])), 0, 8), Fixed: true}}, true
	case KindStdio:
		return stdioCalls, true
	case KindCloseRoots:
		return []Call{{Nr: unix.SYS_CLOSE, Optional: true}}, true
	case KindWriteFile:
		return []Call{
			{Nr: unix.SYS_OPENAT, Args: a(atFDCWD, op.Args[0], unix.O_WRONLY|unix.O_CLOEXEC), Flags: f},
			{Nr: unix.SYS_WRITE, Args: a(0, op.Args[1], op.Args[2]), Flags: f},
			{Nr: unix.SYS_CLOSE, Optional: true},
		}, true
	case KindHold:
		return []Call{
			// findTarget: a refusal is no failure of its own.
			{Nr: unix.SYS_NEWFSTATAT, Args: a(atFDCWD), Optional: true},
			{Nr: unix.SYS_FACCESSAT2, Args: a(atFDCWD, 0, unix.X_OK, unix.AT_EACCESS), Optional: true},
			{Nr: unix.SYS_WRITE, Args: a(0, 0, uintptr(ReportSize))},
			{Nr: unix.SYS_OPENAT, Args: a(0, 0, unix.O_WRONLY|unix.O_CLOEXEC)},
			{Nr: unix.SYS_WRITE, Args: a(0, uintptr(unsafe.Pointer(&zeroText[0])), 1)},
			{Nr: unix.SYS_CLOSE, Optional: true},
		}, true
	case KindLandlock:
		r := (*LandlockRules)(op.Ptr)
		var attr uintptr
		if len(r.Attr) > 0 {
			attr = uintptr(unsafe.Pointer(&r.Attr[0]))
		}
		return []Call{
			{Nr: unix.SYS_LANDLOCK_CREATE_RULESET, Args: a(attr, uintptr(len(r.Attr))), Flags: f},
			{Nr: unix.SYS_OPENAT, Args: a(atFDCWD, 0, unix.O_PATH|unix.O_CLOEXEC), Flags: f},
			{Nr: unix.SYS_FSTAT, Optional: true},
			{Nr: unix.SYS_LANDLOCK_ADD_RULE, Args: a(0, unix.LANDLOCK_RULE_PATH_BENEATH), Flags: f},
			{Nr: unix.SYS_CLOSE, Optional: true},
			{Nr: unix.SYS_LANDLOCK_RESTRICT_SELF, Flags: f},
		}, true
	}
	return nil, false
}
