package sandbox

import (
	"errors"
	"fmt"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/hold"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"golang.org/x/sys/unix"
)

// Detached identifies a sandbox that its Process gave up (Process.Detach), for
// Remove: plain data, which whoever is to remove the sandbox later keeps (an OCI
// runtime's state directory, as JSON).
type Detached struct {
	// Pid is the sandbox's first process (its init, where it has one), as the
	// process that started it saw it.
	Pid int `json:"pid"`
	// StartTime is that process's start time, in clock ticks after boot (field
	// 22 of /proc/PID/stat): it tells the sandbox from a later process given the
	// same pid.
	StartTime uint64 `json:"startTime"`
	// Cgroup are the directories of the sandbox's cgroup, one per hierarchy;
	// none where it has no cgroup of its own.
	Cgroup []string `json:"cgroup,omitempty"`
	// CgroupJoined are the directories of a cgroup that existed before the
	// sandbox joined it (WithCgroupPath): Remove leaves them.
	CgroupJoined []string `json:"cgroupJoined,omitempty"`
}

// Detach gives up the Process of a detached Template (WithDetached): the
// sandbox goes on, held or running, without this process, which may exit. The
// end of the start's context no longer kills it; the Process closes what it
// holds (its pidfd, its end of the standard streams' pipes, which ends their
// copies: give a detached sandbox files, or nil, as streams; the seccomp
// listener), and Wait returns ErrDetached. The Terminal stays the caller's.
//
// The sandbox's cgroup stays until Remove removes it, or until it is empty and
// a Reclaim (the next Build on the host) finds its creator gone. While the
// process that started the sandbox lives, the sandbox is its child: when it
// ends, it stays a zombie until that process exits or Remove reaps it.
func (p *Process) Detach() (*Detached, error) {
	if !p.tmpl.spec.Detached {
		return nil, errors.New("sandbox: Detach needs a detached Template (WithDetached): the parent-death signal would kill the sandbox")
	}
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return nil, ErrFinished
	}
	p.done, p.werr = true, ErrDetached
	cg := p.cgroup
	p.cgroup = nil
	p.closeErrPipe()
	p.mu.Unlock()
	if p.stopCtx != nil {
		p.stopCtx()
	}
	d := &Detached{Pid: p.pid, Cgroup: cg.Created(), CgroupJoined: cg.Joined()}
	d.StartTime, _ = hold.StartTime(p.pid)
	if cg != nil {
		cg.Close()
		owner.Drop() // the cgroup's name holds the owner ID; a live cgroup is never reclaimed
	}
	p.releaseMountNS()
	p.stdio.Close()
	if p.listener != nil {
		p.listener.Close()
	}
	unix.Close(p.pidfd)
	return d, nil
}

// Remove ends a sandbox that a Process gave up (Process.Detach): it kills its
// first process, if it still is the one d names, and every process left in its
// cgroup, reaps the first if it is the caller's child, and removes the cgroup.
// A sandbox that already ended is no error. This is an OCI runtime's delete.
func Remove(d *Detached) error {
	if d.Pid > 0 {
		if err := hold.Kill(d.Pid, d.StartTime); err != nil {
			return err
		}
	}
	cg := cgroup.FromDirs(d.Cgroup)
	if cg == nil {
		return nil
	}
	if pids, _ := cg.Pids(); len(pids) > 0 {
		cg.KillAll()
	}
	if err := cg.Remove(); err != nil {
		return fmt.Errorf("sandbox: remove cgroup: %w", err)
	}
	return nil
}
