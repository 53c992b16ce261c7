package sandbox

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paddock-sandbox/paddock/internal/handshake"
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
			if err := handshake.SetDeadline(&p.start, left); err != nil {
				return err
			}
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
		if p.handing {
			p.ctxErr = ctx.Err() // adopt kills the target (see beginHandover)
			return false
		}
		if _, exited := handshake.ChildExit(p.pidfd); !exited && unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0) == nil {
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
	if !handshake.NeverExecuted(p.pid) {
		return nil
	}
	info := handshake.AwaitExit(p.pidfd)
	e := &ChildError{Stage: "start", Step: "execute " + program, Op: -1}
	if cause := p.contextCause(ctx); cause != nil {
		e.Errno, e.cause = contextErrno(cause), cause
	} else {
		e.Errno, e.cause = handshake.DeathCause(info)
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
