package sandbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The context of a start. Its end kills the sandbox, from the clone on: a child
// stuck before exec (in a seccomp notification that nobody can answer yet, in a
// hung filesystem) included, so that Start returns within the context's deadline
// with an error that matches the context's (errors.Is(err,
// context.DeadlineExceeded)). After Start, Wait returns the context's error when
// its end killed the sandbox, as os/exec's Cmd.Wait does.
//
// The parent kills the child through its pidfd (a SIGKILL from an ancestor pid
// namespace reaches even the init of the sandbox's). In vfork mode, where Start's
// thread sleeps in clone3 until the child has executed the target or died, that
// is the pidfd whose number clone3 wrote before the child ran; and the child
// carries the deadline itself (child.Start.SetDeadline: a timer that execve
// deletes), which bounds it even where no goroutine of the caller can run.

// watchContext prepares the start of p for ctx, before the clone: a vfork child
// gets the deadline, and the context's end will kill the sandbox (contextDone). It
// fails when the deadline has already passed.
func (p *Process) watchContext(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return context.DeadlineExceeded
		}
		p.deadline = dl
		if p.tmpl.vfork {
			var now unix.Timespec
			if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
				return fmt.Errorf("sandbox: read the monotonic clock: %w", err)
			}
			p.start.SetDeadline(unix.NsecToTimespec(now.Nano() + int64(left)))
		}
	}
	if ctx.Done() != nil {
		p.stopCtx = context.AfterFunc(ctx, func() { p.contextDone(ctx) })
	}
	return nil
}

// contextDone kills the sandbox when its context ends, and records the context's
// error if the sandbox was still running: Start or Wait return it.
func (p *Process) contextDone(ctx context.Context) {
	for p.killForContext(ctx) {
		// clone3 has written the pidfd's number but not yet installed it.
		time.Sleep(100 * time.Microsecond)
	}
}

// killForContext is one attempt of contextDone. Before Start knows the child's
// pidfd, the one that clone3 wrote serves (a vfork clone returns only once the
// child has executed the target or died); the error recorded makes Start kill
// the child after the clone in any case. It reports whether to try again.
func (p *Process) killForContext(ctx context.Context) (retry bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	if p.pidfd >= 0 {
		if _, exited := childExit(p.pidfd); !exited && unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0) == nil {
			p.ctxErr = ctx.Err()
		}
		return false
	}
	p.ctxErr = ctx.Err()
	fd := int(atomic.LoadInt32(&p.pidfd32))
	if !p.inClone {
		return false
	}
	return fd < 0 || unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) == unix.EBADF
}

// cloning marks the clone as under way: from here on, the number that clone3
// writes in pidfd32 names the child's pidfd.
func (p *Process) cloning() {
	p.mu.Lock()
	p.inClone = true
	p.mu.Unlock()
}

// cloned takes the child's pid and pidfd after the clone (pid < 0 when it failed),
// and kills the child if the context ended before it could be.
func (p *Process) cloned(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inClone = false
	if pid < 0 {
		atomic.StoreInt32(&p.pidfd32, -1)
		return
	}
	p.pid, p.pidfd = pid, int(p.pidfd32)
	if p.ctxErr != nil {
		unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0)
	}
}

// contextErr returns the context's error if its end killed the sandbox.
func (p *Process) contextErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctxErr
}

// stopWatch ends the watch of the context, before a failed start is torn down:
// once it returns, contextDone touches the Process no more.
func (p *Process) stopWatch() {
	if p.stopCtx != nil {
		p.stopCtx()
	}
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
}

// childInfo is the start of the siginfo_t that waitid(2) fills for a child: the
// signal fields, then si_pid, si_uid and si_status.
type childInfo struct {
	signo, errno, code, _ int32
	pid                   int32
	uid                   uint32
	status                int32
	_                     [128 - 28]byte
}

// childExit reports whether the child of pidfd has exited, and how, leaving it to
// be reaped.
func childExit(pidfd int) (childInfo, bool) {
	var info childInfo
	_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PIDFD, uintptr(pidfd), uintptr(unsafe.Pointer(&info)),
		unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, 0, 0)
	if e != 0 {
		return info, e == unix.ECHILD // reaped already
	}
	return info, info.pid != 0
}

// cldExited is CLD_EXITED, the si_code of a child that exited (rather than was
// killed).
const cldExited = 1

// pfForkNoExec is the kernel's PF_FORKNOEXEC: set in a process that fork made and
// cleared by execve.
const pfForkNoExec = 0x40

// checkExec tells, once the error pipe reached EOF without a report, whether the
// child executed the target or died before that, unable to report: killed (by the
// context, the start's deadline, a seccomp filter, someone else), or refused
// the write of its report. A child that died before exec is a failed start.
//
// EOF comes when the child's descriptors close: on exec, or early in its exit,
// before it can be waited for. So the child's flags tell: execve clears
// PF_FORKNOEXEC before it closes the descriptors; a child that still has it is
// on its way out, and its status follows.
func (p *Process) checkExec(ctx context.Context, program string) error {
	if !neverExecuted(p.pid) {
		return nil
	}
	// Its pidfd becomes readable once it can be waited for.
	pfd := [1]unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd[:], 5000); err != unix.EINTR {
			break
		}
	}
	info, _ := childExit(p.pidfd)
	e := &ChildError{Stage: "start", Step: "execute " + program, Op: -1}
	switch cause := p.contextCause(ctx); {
	case cause != nil:
		e.Errno, e.cause = contextErrno(cause), cause
	case info.code == cldExited:
		e.Errno, e.cause = syscall.EIO, fmt.Errorf("the child exited with status %d before it executed the target, and its report was lost", info.status)
	default:
		sig := syscall.Signal(info.status)
		e.Errno, e.cause = syscall.EINTR, fmt.Errorf("the child was killed by %v before it executed the target", sig)
		if sig == syscall.SIGSYS {
			e.cause = fmt.Errorf("%w (a seccomp filter's kill?)", e.cause)
		}
	}
	return e
}

// contextCause returns the context's error if its end stopped the start: it ended,
// or its deadline, which a vfork child's own timer keeps, has passed.
func (p *Process) contextCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.contextErr(); err != nil {
		return err
	}
	if !p.deadline.IsZero() && !time.Now().Before(p.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// contextStartErr is the error of a start that the end of its context stopped.
func contextStartErr(cause error, program string) error {
	return &ChildError{Stage: "start", Step: "execute " + program, Op: -1, Errno: contextErrno(cause), cause: cause}
}

func contextErrno(cause error) syscall.Errno {
	if cause == context.DeadlineExceeded {
		return syscall.ETIMEDOUT
	}
	return syscall.ECANCELED
}

// neverExecuted reports whether our child pid (alive, dying or a zombie not yet
// reaped) never called execve: PF_FORKNOEXEC is still set in the flags of
// /proc/PID/stat. The same line must name this process as the parent: a /proc
// of another pid namespace than the caller's (a caller in a pid namespace of its
// own, under the host's /proc) shows another process under that number. Where it
// cannot tell, it says no.
func neverExecuted(pid int) bool {
	var path [32]byte
	b := append(path[:0], "/proc/"...)
	b = appendInt(b, pid)
	b = append(b, "/stat\x00"...)
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&b[0])), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return false
	}
	defer unix.Close(int(fd))
	var buf [1024]byte
	n, err := unix.Read(int(fd), buf[:])
	if err != nil || n <= 0 {
		return false
	}
	// The command name, in parentheses, may hold anything: count from the last ')'.
	text := buf[:n]
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
			if !ok || v != uint64(unix.Getpid()) {
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
