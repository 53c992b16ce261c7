package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/limitwatch"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/internal/stdio"
	"github.com/paddock-sandbox/paddock/network"
	"github.com/paddock-sandbox/paddock/overlay"
	"golang.org/x/sys/unix"
)

// ErrWaitDelay is returned by Wait when the Command's WaitDelay expired before
// the goroutines copying the target's streams were done: something that outlived
// the process still held a pipe open, and Wait closed it.
var ErrWaitDelay = errors.New("sandbox: the standard streams were still open when WaitDelay expired")

// A Process is a started sandbox.
type Process struct {
	tmpl    *Template
	prog    *child.Program // the program this start ran (see mountWatch)
	start   child.Start
	pid     int
	pidfd   int
	pidfd32 int32
	mountNS int             // a reference to the sandbox's mount namespace, or -1 (see holdMountNS)
	hold    *heldStart      // a held start's FIFO and error pipe, or nil (see hold.go)
	warm    *warmChild      // a warm child's socket and buffer, until its start (see pool.go)
	refill  *pool           // for a pooled start, the pool that Wait refills (see pool.refill)
	net     *network.Helper // the user-mode network's helper, or nil (see network.go)

	stdio    stdio.Streams // the target's standard streams: pipes and their copies
	terminal *os.File

	stopCtx   func() bool   // ends the watch of the start's context (watchContext)
	deadline  time.Time     // the context's deadline, or zero
	ctxErr    error         // the context's error, once its end killed the sandbox
	inClone   bool          // the clone is under way (see killForContext)
	handing   bool          // the released child is handing over (see beginHandover)
	waitDelay time.Duration // Command.WaitDelay
	cgroup    *cgroup.Cgroup
	ids       *startIDs // the block of IDs this start holds, or nil
	listener  *os.File
	fuse      *overlay.FuseDaemon // serves the root with the fuse driver; stopped by Wait
	// stagingDetached says that the parent detached this start's root from the
	// caller's mount namespace (see inplace.go).
	stagingDetached bool
	// pivoted says that the parent served the checkpoint before pivot_root.
	pivoted bool

	mu     sync.Mutex
	done   bool
	status *ExitStatus
	werr   error

	limits limitwatch.Watch // the run-time limits (see Limits)
}

// ExitStatus is how a sandboxed process ended.
type ExitStatus struct {
	// Code is the exit code, or -1 when the process was killed by a signal.
	Code int
	// Signal is the signal that killed it, or 0.
	Signal syscall.Signal
	// Rusage is the resource usage of the process and the children it waited for.
	Rusage syscall.Rusage
	// OOMKilled reports that the kernel's OOM killer ended a process of the sandbox
	// because of its memory limit.
	OOMKilled bool
	// Cgroup holds the final figures of the sandbox's cgroup, when it had one.
	Cgroup *cgroup.Stats
	// Limit names the limit that ended the sandbox, "" when none did: the wall or
	// CPU time, or the output, of Spec.Limits, which kill it; the memory limit,
	// after the OOM killer ended a process and the run failed; the pids limit,
	// after it refused a fork and the run failed. Limits enforced by rlimits
	// other than RLIMIT_CPU (RLIMIT_AS and RLIMIT_NPROC of Spec.RlimitFallback)
	// make a system call fail rather than kill, and the target handles that its
	// own way: they are not reported.
	Limit Limit
	// PidsLimitHit reports that the pids limit of the sandbox's cgroup refused at
	// least one fork or clone (pids.events), whether or not the run failed.
	PidsLimitHit bool
}

// Success reports whether the process exited with code 0.
func (s *ExitStatus) Success() bool { return s.Code == 0 }

// ExitCode returns the code as a shell reports it: the exit code, or 128+N after
// signal N.
func (s *ExitStatus) ExitCode() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
}

// String implements fmt.Stringer.
func (s *ExitStatus) String() string {
	if s.Signal != 0 {
		return "signal: " + s.Signal.String()
	}
	return fmt.Sprintf("exit status %d", s.Code)
}

// Pid returns the process ID of the sandbox's first process (its init when the
// Template has one), as seen from the caller.
func (p *Process) Pid() int { return p.pid }

// PidFD returns a pidfd of the process, valid until Wait returns.
func (p *Process) PidFD() int { return p.pidfd }

// Terminal returns the master side of the pseudo-terminal of a Command started with
// Terminal set, or nil. What the target writes is read from it, what it reads is
// written to it. Reads fail with EIO once every process of the sandbox has closed
// the terminal. The caller closes it: Wait does not, so that what the target
// wrote last can still be read afterwards.
func (p *Process) Terminal() *os.File { return p.terminal }

// SeccompListener returns the seccomp user-notification descriptor of a sandbox
// whose profile has notify rules (seccomp.ActNotify), or nil. The caller answers
// the notifications (SECCOMP_IOCTL_NOTIF_RECV and _SEND); the sandbox's calls
// that match those rules wait until it does. Wait closes it.
func (p *Process) SeccompListener() *os.File { return p.listener }

// Resize sets the size of the process's terminal.
func (p *Process) Resize(ws WindowSize) error {
	if p.terminal == nil {
		return errors.New("sandbox: the process has no terminal")
	}
	return unix.IoctlSetWinsize(int(p.terminal.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols})
}

// Signal sends sig to the process through its pidfd, so it never reaches a recycled pid.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return ErrFinished
	}
	if err := unix.PidfdSendSignal(p.pidfd, sig, nil, 0); err != nil {
		if err == unix.ESRCH {
			return ErrFinished
		}
		return fmt.Errorf("sandbox: signal %v: %w", sig, err)
	}
	return nil
}

// Kill sends SIGKILL to the process. With a new pid namespace this ends every
// process in the sandbox.
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// Wait waits for the process to exit, releases what the start held and returns how
// it ended. It may be called more than once; later calls return the same result.
// If the end of the start's context killed the process, the error is the
// context's (errors.Is(err, context.DeadlineExceeded) or context.Canceled), as
// os/exec's Cmd.Wait reports it; if the Command's WaitDelay expired before the
// copies of its streams were done, it is ErrWaitDelay.
// Where the root is ephemeral, the teardown of the sandbox's mount namespace (its
// unmounts and the freeing of its tmpfs and overlay) goes on in the background after
// Wait returns; Template.Close waits for it.
func (p *Process) Wait() (*ExitStatus, error) {
	p.mu.Lock()
	if p.done {
		defer p.mu.Unlock()
		return p.status, p.werr
	}
	p.mu.Unlock()

	st := &ExitStatus{}
	var ws unix.WaitStatus
	var ru unix.Rusage
	var err error
	for {
		_, err = unix.Wait4(p.pid, &ws, 0, &ru)
		if err != unix.EINTR {
			break
		}
	}
	p.releaseMountNS()
	if p.refill != nil {
		p.refill.fill() // the target is gone: its CPUs are free for the next warm child
	}
	p.stopFuse()
	p.stopNetwork()
	if p.stopCtx != nil {
		p.stopCtx()
	}
	cgErr := p.finishCgroup(st)
	p.releaseIDs()
	expired, copyErr := p.stdio.Wait(p.waitDelay)
	if expired {
		copyErr = ErrWaitDelay
	}
	p.stdio.Close()

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener != nil {
		p.listener.Close()
	}
	unix.Close(p.pidfd)
	p.closeErrPipe()
	p.done = true
	if err != nil {
		p.werr = fmt.Errorf("sandbox: wait: %w", err)
		return nil, p.werr
	}
	st.Rusage = *(*syscall.Rusage)(unsafe.Pointer(&ru))
	if ws.Signaled() {
		st.Code, st.Signal = -1, ws.Signal()
	} else {
		st.Code = ws.ExitStatus()
	}
	p.finishLimits(st)
	if p.ctxErr != nil && !st.Success() {
		copyErr = p.ctxErr // killed because its context ended, as os/exec reports it
	}
	if copyErr == nil {
		copyErr = cgErr
	}
	p.status, p.werr = st, copyErr
	return st, copyErr
}

// finishCgroup reads the final figures of the sandbox's cgroup, kills what is
// left in it (processes that escaped a shared pid namespace) and removes it.
func (p *Process) finishCgroup(st *ExitStatus) error {
	p.mu.Lock()
	cg := p.cgroup
	p.cgroup = nil
	p.mu.Unlock()
	if cg == nil {
		return nil
	}
	if stats, err := cg.Stats(); err == nil {
		st.Cgroup = stats
		st.OOMKilled = stats.OOMKills > 0
	}
	// A cgroup it joined (WithCgroupPath) is not the sandbox's alone.
	if pids, _ := cg.Pids(); len(pids) > 0 && len(cg.Joined()) == 0 {
		cg.KillAll()
	}
	if err := removeCgroup(cg); err != nil {
		return fmt.Errorf("sandbox: remove cgroup: %w", err)
	}
	return nil
}

// removeCgroup removes a start's cgroup, and then drops the hold on the owner ID
// that its name carries (owner.Hold in createCgroup). A cgroup that could not be
// removed keeps the hold: if this process dies, another one reclaims it.
func removeCgroup(cg *cgroup.Cgroup) error {
	if cg == nil {
		return nil
	}
	err := cg.Remove()
	if err == nil {
		owner.Drop()
	}
	return err
}

// Stats returns the current figures of the sandbox's cgroup: memory, processes,
// CPU time and OOM kills. It fails with ErrNotSupported when the sandbox has no
// cgroup.
func (p *Process) Stats() (*cgroup.Stats, error) {
	p.mu.Lock()
	cg, done := p.cgroup, p.done
	p.mu.Unlock()
	if done {
		return nil, ErrFinished
	}
	if cg == nil {
		return nil, &SpecError{NotSupported: true, Field: "cgroup", Err: errors.New("the sandbox has no cgroup")}
	}
	return cg.Stats()
}

// KillAll kills every process of the sandbox's cgroup (cgroup.kill on v2; freeze,
// kill and thaw on v1). Without a cgroup it kills the process, which ends the
// sandbox when it has a pid namespace of its own.
func (p *Process) KillAll() error {
	p.mu.Lock()
	cg, done := p.cgroup, p.done
	p.mu.Unlock()
	if done {
		return ErrFinished
	}
	if cg == nil {
		return p.Kill()
	}
	return cg.KillAll()
}

// abort kills and reaps a child whose setup failed, leaving nothing behind.
func (p *Process) abort() {
	p.stopWatch()
	unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0)
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(p.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	if p.mountNS >= 0 {
		unix.Close(p.mountNS) // a failed start is torn down before Start returns
		p.mountNS = -1
	}
	p.stopFuse()
	p.stopNetwork()
	p.undoStaging()
	unix.Close(p.pidfd)
	p.closeErrPipe()
	p.stdio.Close()
	p.closeTerminal()
	p.stdio = stdio.Streams{}
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	removeCgroup(p.cgroup)
	p.cgroup = nil
	p.releaseIDs()
}

// setupStdio fills the descriptor table of the child from the Command.
func (p *Process) setupStdio(cmd *Command) error {
	s := &p.start
	nfd := 3 + len(cmd.ExtraFiles)
	if nfd > child.MaxFDs {
		return specErr("command", "%d descriptors, more than %d", nfd, child.MaxFDs)
	}
	s.NFDs = int32(nfd)
	if cmd.Terminal {
		if cmd.Stdin != nil || cmd.Stdout != nil || cmd.Stderr != nil {
			return specErr("command", "a terminal replaces stdin, stdout and stderr")
		}
		if p.tmpl.spec.Limits.Output > 0 {
			return specErr("command", "an output limit counts what the target writes to Stdout and Stderr; a terminal's output goes to its master, which nothing counts")
		}
		if err := p.setupTerminal(cmd.TerminalSize); err != nil {
			return err
		}
	} else {
		var err error
		if s.FDs[0], err = p.stdio.Input(cmd.Stdin, p.tmpl.devNull); err != nil {
			return err
		}
		if s.FDs[1], err = p.output(cmd.Stdout); err != nil {
			return err
		}
		if cmd.Stderr != nil && stdio.SameWriter(cmd.Stderr, cmd.Stdout) {
			s.FDs[2] = s.FDs[1]
		} else if s.FDs[2], err = p.output(cmd.Stderr); err != nil {
			return err
		}
	}
	for i, f := range cmd.ExtraFiles {
		if f == nil {
			s.FDs[3+i] = -1
			continue
		}
		s.FDs[3+i] = int32(f.Fd())
	}
	return nil
}

// setupTerminal makes a terminal of size ws the target's standard streams and
// controlling terminal (in a session of its own): one that the child opens in the
// sandbox's own /dev/pts and sends back (see Start), or, where the sandbox has
// none and sees the host's /dev, one that the parent opens on the host.
func (p *Process) setupTerminal(ws WindowSize) error {
	s := &p.start
	s.Setsid, s.Ctty, s.CttyInTarget = true, 0, p.tmpl.spec.Init
	if p.tmpl.ownTerminal {
		s.FDs[0], s.FDs[1], s.FDs[2] = child.TerminalPeer, child.TerminalPeer, child.TerminalPeer
		s.TerminalSize = unix.Winsize{Row: ws.Rows, Col: ws.Cols}
		return nil
	}
	master, fd, err := p.stdio.Terminal(ws.Rows, ws.Cols)
	if err != nil {
		return err
	}
	p.terminal = master
	s.FDs[0], s.FDs[1], s.FDs[2] = fd, fd, fd
	return nil
}

// closeTerminal closes the master of the terminal of a start that failed.
func (p *Process) closeTerminal() {
	if p.terminal != nil {
		p.terminal.Close()
		p.terminal = nil
	}
}

// output returns the target's descriptor for w, counted against the output
// limit where the Template has one: then through a copier, a file's too.
func (p *Process) output(w io.Writer) (int32, error) {
	if w != nil && p.tmpl.spec.Limits.Output > 0 {
		w = &limitedWriter{w: w, p: p}
	}
	return p.stdio.Output(w, p.tmpl.devNull)
}
