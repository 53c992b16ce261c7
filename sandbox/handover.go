package sandbox

import (
	"fmt"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

// The handover (Spec.Handover): with a joined pid namespace and no init, the
// child clones the target into the namespace as a child of the caller's, reports
// its pid with child.HandoverOp and exits. The Process then is the target: adopt
// takes its pid and pidfd in place of the child's and reaps the child. The child
// reports the target before anything the target reports, which waits for it (see
// package child), so every report that follows is the target's, and a failed
// step kills and reaps the target (abort).

// beginHandover marks, in a start that hands over, that the child is about to
// be released: from then on the end of the start's context does not kill the
// child, which could leave a target it had just cloned unknown to this process,
// but is recorded, and adopt kills the target. Between its release and the
// handover the child makes only a few system calls that do not wait (the
// cgroup join, the namespace joins); one that fails reports and exits.
func (p *Process) beginHandover() {
	if !p.tmpl.plan.Spawn.Handover {
		return
	}
	p.mu.Lock()
	p.handing = true
	p.mu.Unlock()
}

// handedOver is what readReport returns for the child's handover marker.
type handedOver struct{ pid int }

func (h *handedOver) Error() string {
	return fmt.Sprintf("sandbox: the child handed the start over to pid %d", h.pid)
}

// adopt makes the target pid, which the child cloned as a child of this process,
// the Process's own: it opens its pidfd, which cannot name another process (a
// child not waited for keeps its pid), reaps the child, which exits once it has
// reported, and kills the target if the start's context has ended meanwhile.
func (p *Process) adopt(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if pid > 0 {
			unix.Kill(pid, unix.SIGKILL)
			reap(pid)
		}
		return &ChildError{Stage: "handover", Step: fmt.Sprintf("open a pidfd of the target, pid %d", pid), Op: child.HandoverOp, Errno: child.ErrnoOf(err), cause: err}
	}
	reap(p.pid)
	p.mu.Lock()
	old := p.pidfd
	p.pid, p.pidfd, p.handing = pid, fd, false
	if p.ctxErr != nil {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
	p.mu.Unlock()
	unix.Close(old)
	return nil
}

// reap waits for the child pid to exit and frees it.
func reap(pid int) {
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			return
		}
	}
}
