package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/emit"
	"github.com/paddock-sandbox/paddock/internal/handshake"
	"github.com/paddock-sandbox/paddock/internal/hold"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// Create, then start. A start of a held Template (WithHold) stops in the child
// after every other step, just before execve (child.KindHold): the child says so
// on the error pipe, and Start returns; then it opens the Command's FIFO for
// writing, which blocks until a reader opens it, writes one byte and executes the
// target. This is runc's exec FIFO, the base of an OCI runtime's create and
// start.
//
// The FIFO lives on the host, outside the sandbox's root: the parent opens it
// with O_PATH for each start, above the descriptors the child's shuffle can
// touch, and the child reopens that descriptor for writing through a procfs that
// Build opened and checked (/proc/self/fd/N of the host's /proc), so that nothing
// of the sandbox's root, a missing or planted /proc, comes between.

// errHeld is what readReport returns for the marker of a held start.
var errHeld = errors.New("sandbox: the child waits to be released")

// ErrDetached is what Wait returns for a Process that was given up (Detach).
var ErrDetached = errors.New("sandbox: the process was detached")

// heldStart is what the Process of a held start keeps (a pointer, so that the
// Process of any other start stays as small as it was).
type heldStart struct {
	// fd is the parent's O_PATH descriptor of the FIFO until the clone; errR
	// the error pipe until the release; -1 afterwards.
	fd, errR int
	// fifo and program name the FIFO and the target.
	fifo, program string
	// beforePivot is the Command's BeforePivot.
	beforePivot func(pid int) error
}

// compileHold opens the procfs through which held starts reach their FIFOs, and
// appends the hold, where the Plan has one.
func (t *Template) compileHold(p *child.Program, pl *plan.Plan) error {
	if pl.Spawn.Hold == "" {
		return nil
	}
	f, err := hold.OpenProcfs(child.MaxFDs)
	if err != nil {
		return &SpecError{NotSupported: true, Field: "hold", Err: err}
	}
	t.files = append(t.files, f)
	t.hold = true
	if t.spec.HoldBeforePivot && t.spec.BuildsFilesystem() && !t.spec.NoRootfs {
		t.pivotCheckpoint = true
	}
	emit.Hold(p, pl, f.Fd())
	return nil
}

// openHold opens the Command's FIFO for a start of a held Template, with
// O_PATH and above the descriptors of the child's shuffle, and names it in the
// start (child.Start.HoldPath). It refuses a Command whose FIFO does not fit the
// Template.
func (p *Process) openHold(cmd *Command) error {
	t := p.tmpl
	switch {
	case cmd.BeforePivot != nil && !(t.hold && t.pivotCheckpoint && t.spec.HoldBeforePivot):
		return specErr("command", "BeforePivot needs a held Template (WithHold, WithHoldBeforePivot) with a root filesystem to pivot into")
	case !t.hold && cmd.HoldFIFO == "":
		return nil
	case !t.hold:
		return specErr("command", "HoldFIFO %s: the Template does not hold its starts (WithHold)", cmd.HoldFIFO)
	case cmd.HoldFIFO == "":
		return specErr("command", "a start of a held Template (WithHold) needs a HoldFIFO")
	}
	fd, err := unix.Open(cmd.HoldFIFO, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return specErr("command", "HoldFIFO: %v", &os.PathError{Op: "open", Path: cmd.HoldFIFO, Err: err})
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return specErr("command", "HoldFIFO %s is not a FIFO", cmd.HoldFIFO)
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, child.MaxFDs)
	if err != nil {
		return fmt.Errorf("sandbox: move the FIFO's descriptor: %w", err)
	}
	p.hold = &heldStart{fd: high, errR: -1, fifo: cmd.HoldFIFO, beforePivot: cmd.BeforePivot}
	b := append(p.start.HoldPath[:0], "self/fd/"...)
	b = strconv.AppendInt(b, int64(high), 10)
	p.start.HoldPath[len(b)] = 0
	return nil
}

// atPivotCheckpoint reports whether the child's checkpoint that the parent
// serves now is the one before pivot_root: of a held start, or of a start
// with copy-up tmpfs mounts to fill.
func (p *Process) atPivotCheckpoint() bool {
	t := p.tmpl
	return t.pivotCheckpoint && !p.pivoted && (t.fuse == nil || p.fuse != nil)
}

// pivotCheckpoint serves the checkpoint before pivot_root: it fills the
// copy-up tmpfs mounts, calls the Command's BeforePivot, if any, and releases
// the child.
func (p *Process) pivotCheckpoint(syncFD int) error {
	p.pivoted = true
	if err := p.fillTmpfs(); err != nil {
		return err
	}
	if h := p.hold; h != nil && h.beforePivot != nil {
		if err := h.beforePivot(p.pid); err != nil {
			return &ChildError{Stage: "mount", Step: "before pivot_root (Command.BeforePivot)", Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
		}
	}
	if err := handshake.Release(syncFD); err != nil {
		return &ChildError{Stage: "mount", Step: "release the child before pivot_root", Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
	}
	return nil
}

// closeHoldFD closes the parent's descriptor of the FIFO: the child holds its
// own from the clone.
func (p *Process) closeHoldFD() {
	if h := p.hold; h != nil && h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}

// keepHeld keeps the error pipe of a start that waits to be released: after the
// release, it says whether the child executed the target.
func (p *Process) keepHeld(errR *int, program string) {
	p.mu.Lock()
	p.hold.errR, *errR = *errR, -1
	p.hold.program = program
	p.mu.Unlock()
}

// takeErrPipe takes the error pipe of a held start from the Process, -1 when it
// has none (not held, released, waited for).
func (p *Process) takeErrPipe() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold == nil {
		return -1
	}
	fd := p.hold.errR
	p.hold.errR = -1
	return fd
}

// closeErrPipe closes the error pipe of a held start that was not released,
// with p.mu held or before Start returned.
func (p *Process) closeErrPipe() {
	if h := p.hold; h != nil && h.errR >= 0 {
		unix.Close(h.errR)
		h.errR = -1
	}
}

// Held reports whether the process waits to be released (WithHold): Start
// returned, and nobody has released it yet through this Process.
func (p *Process) Held() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hold != nil && p.hold.errR >= 0
}

// Release lets a held start go on (WithHold): it opens the start's FIFO for
// reading, takes the byte the sandbox writes there, and waits until the sandbox
// has executed the target. A target that could not be executed fails as Start
// would, with a *ChildError of stage "exec" (Wait then reaps the sandbox); a
// sandbox that died while held fails with a *ChildError of stage "hold"; the end
// of ctx stops the wait (the end of the start's context kills the sandbox).
// Call it before Wait, not at the same time.
func (p *Process) Release(ctx context.Context) error {
	errR := p.takeErrPipe()
	if errR < 0 {
		return errors.New("sandbox: the process is not held")
	}
	h := p.hold
	err := hold.ReleaseFIFO(ctx, h.fifo, p.pidfd)
	var xe *hold.ExecError
	if errors.As(err, &xe) {
		err = nil // the error pipe says so, with the program's name
	}
	if err != nil && err != hold.ErrNotReleased {
		// The sandbox still waits (the FIFO could not be opened, ctx ended): a
		// later Release may try again.
		p.mu.Lock()
		if p.done {
			unix.Close(errR)
		} else {
			h.errR = errR
		}
		p.mu.Unlock()
		e := &ChildError{Stage: "hold", Step: "release through " + h.fifo, Op: -1, Errno: child.ErrnoOf(err), cause: err}
		if err == ctx.Err() {
			e.Errno = contextErrno(err)
		}
		return e
	}
	defer unix.Close(errR)
	// A child that failed reported why before it closed the FIFO or died.
	if rerr := p.tmpl.readReport(p.prog, errR, h.program); rerr != nil {
		return rerr
	}
	if err != nil {
		return &ChildError{Stage: "hold", Step: "release through " + h.fifo, Op: -1, Errno: child.ErrnoOf(err), cause: err}
	}
	return p.checkExec(ctx, h.program)
}

// Release lets the held sandbox that waits on fifo (Command.HoldFIFO) go on,
// from any process: it opens the FIFO for reading and takes the byte the
// sandbox writes there once it is opened, which is when the sandbox goes on to
// execute its target. It waits until ctx ends for a sandbox that has not
// reached its hold yet, and fails when the sandbox closes the FIFO without
// writing (its hold failed). Once released, it waits until the target is
// executed: a target that could not be fails with a *ChildError of stage
// "exec" and the errno of its execve (the sandbox then exits with 125). This
// is an OCI runtime's start.
func Release(ctx context.Context, fifo string) error {
	err := hold.ReleaseFIFO(ctx, fifo, -1)
	var xe *hold.ExecError
	if errors.As(err, &xe) {
		return &ChildError{Stage: "exec", Step: "execute the target", Op: child.ExecOp, Errno: xe.Errno}
	}
	if err != nil {
		return fmt.Errorf("sandbox: release %s: %w", fifo, err)
	}
	return nil
}
