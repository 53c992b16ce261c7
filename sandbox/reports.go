package sandbox

import (
	"errors"
	"syscall"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/handshake"
)

// The child reports on its close-on-exec error pipe: EOF with nothing written
// means it executed the target or died before it could say why (checkExec tells
// which); a child.Report names the step that failed or, with errno 0 at
// child.CheckpointOp, a checkpoint where the child waits for the parent's work
// (the fuse root, see fuse.go).

// errCheckpoint is what readReport returns for the child's checkpoint marker.
var errCheckpoint = errors.New("sandbox: the child waits at its checkpoint")

// readReports reads the error pipe until exec (EOF) or a failure, doing the
// parent's work each time the child reports its checkpoint. syncFD is the write
// end of the sync pipe, or -1 in vfork mode.
func (p *Process) readReports(errFD, syncFD int, program string) error {
	for {
		err := p.tmpl.readReport(p.prog, errFD, program)
		var h *handedOver
		if errors.As(err, &h) {
			if err := p.adopt(h.pid); err != nil {
				return err
			}
			continue
		}
		if err != errCheckpoint {
			return err
		}
		if err := p.checkpoint(syncFD); err != nil {
			return err
		}
	}
}

// readReport waits for exec (EOF) or the child's failure report.
func (t *Template) readReport(prog *child.Program, fd int, program string) error {
	r, ok, err := handshake.ReadReport(fd)
	if !ok {
		return err // nil at EOF: exec, or a death that checkExec tells
	}
	e := &ChildError{Op: int(r.Op), Errno: syscall.Errno(r.Errno)}
	switch r.Op {
	case child.ExecOp:
		e.Stage, e.Step = "exec", "execute "+program
		e.Detail = t.explainExec(program, e.Errno)
	case child.InitOp:
		e.Stage, e.Step = "init", "fork the target from the init"
	case child.InitExecOp:
		e.Stage, e.Step = "init", "execute the init in PID 1 (execveat of its sealed memfd)"
	case child.HoldOp:
		if r.Errno == 0 {
			return errHeld
		}
		e.Stage, e.Step = "hold", "wait to be released"
	case child.PoolOp:
		return errWarm
	case child.HandoverOp:
		return &handedOver{pid: int(r.Pid)}
	case child.CheckpointOp:
		if r.Errno == 0 {
			return errCheckpoint
		}
		e.Stage, e.Step = "root filesystem", "checkpoint"
	default:
		st := prog.Describe(int(r.Op))
		e.Stage, e.Step = st.Stage, st.What
		if r.Phase == child.PhaseResolve {
			e.Path = prog.InRootPath(int(r.Op))
		}
	}
	return e
}
