package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The deadline of a start. A vfork child shares its parent's memory, and the
// parent's thread sleeps in clone3 until the child has executed the target or
// died. The caller's goroutines can kill a child stuck before exec (in a seccomp
// notification that nobody can answer yet, say) through its pidfd; the child also
// bounds itself, so that its parent's thread returns at the deadline whatever the
// caller's goroutines do: before its first step it arms a POSIX timer for the
// context's deadline, which execve deletes.
//
// The timer cannot simply send SIGKILL: the child is the init of its new pid
// namespace, and the kernel drops every signal that an init has no handler for,
// SIGKILL from its own timer included. So the timer sends DeadlineSignal, whose
// handler (deadlineHandler, in assembly) exits with code 125; should a seccomp
// filter refuse exit_group and exit, it faults, and the kernel delivers a fault's
// SIGSEGV past every mask and even to an init. execve resets the handler.

// DeadlineSignal is the signal of the deadline timer.
const DeadlineSignal = unix.SIGALRM

// sigevent is struct sigevent of timer_create(2) for SIGEV_SIGNAL (0): the
// value, the signal, the notification kind, and padding to the kernel's 64 bytes.
type sigevent struct {
	value  uintptr
	signo  int32
	notify int32
	_      [64 - 8 - unsafe.Sizeof(uintptr(0))]byte
}

// sigaction is the kernel's struct sigaction for rt_sigaction(2).
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// saRestorer is SA_RESTORER: the handler frame returns through sa_restorer.
const saRestorer = 0x04000000

// deadline is what the child needs to arm its timer, filled by SetDeadline.
type deadline struct {
	set    bool
	action sigaction
	event  sigevent
	spec   unix.ItimerSpec
	signal uint64 // the mask of DeadlineSignal
}

// startDeadline arms the deadline of s before the child's first step, or
// reports that it could not. It stays out of line: the frames of the child's
// deepest chain of calls leave no room to spare.
//
//go:noinline
//go:nosplit
//go:norace
func startDeadline(s *Start) {
	if e := armDeadline(s); e != 0 {
		fail(uintptr(s.ErrFD), DeadlineOp, e)
	}
}

// armDeadline installs the deadline signal's handler, creates the timer, arms
// it for the absolute CLOCK_MONOTONIC time of s, and unblocks the signal (the
// parent blocked every signal around the clone). A deadline already past fires
// at once.
//
//go:nosplit
//go:norace
func armDeadline(s *Start) syscall.Errno {
	d := &s.deadline
	if _, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(DeadlineSignal), uintptr(unsafe.Pointer(&d.action)), 0, 8, 0, 0); e != 0 {
		return e
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(&d.event)), uintptr(unsafe.Pointer(&s.scratch.timer))); e != 0 {
		return e
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_TIMER_SETTIME, uintptr(s.scratch.timer), unix.TIMER_ABSTIME, uintptr(unsafe.Pointer(&d.spec)), 0, 0, 0); e != 0 {
		return e
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&d.signal)), 0, 8, 0, 0)
	return e
}

// setDeadline fills s's deadline for the handler at pc and the CLOCK_MONOTONIC
// time at.
func (s *Start) setDeadline(pc uintptr, at unix.Timespec) {
	s.deadline = deadline{
		set: true,
		action: sigaction{
			handler:  pc,
			flags:    saRestorer,
			restorer: pc, // never used: the handler does not return
			mask:     ^uint64(0),
		},
		event:  sigevent{signo: int32(DeadlineSignal)},
		spec:   unix.ItimerSpec{Value: at},
		signal: 1 << (DeadlineSignal - 1),
	}
}
