package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/cgroup"
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
	d := &Detached{Pid: p.pid, Cgroup: cg.Dirs()}
	d.StartTime, _ = startTime(p.pid)
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
		if err := killDetached(d); err != nil {
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

// killDetached kills the first process of d, if it still is d's, waits until it
// has exited (up to ten seconds) and reaps it if it is the caller's child.
func killDetached(d *Detached) error {
	fd, err := unix.PidfdOpen(d.Pid, 0)
	if err == unix.ESRCH {
		return nil
	} else if err != nil {
		return fmt.Errorf("sandbox: open pid %d: %w", d.Pid, err)
	}
	defer unix.Close(fd)
	// Read after the pidfd was opened: a start time that matches names the
	// process of the pidfd, not a later one.
	if st, err := startTime(d.Pid); err != nil || st != d.StartTime {
		return nil // gone, and its pid given to another process
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
		return fmt.Errorf("sandbox: kill pid %d: %w", d.Pid, err)
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, 10000); err != unix.EINTR {
			break
		}
	}
	var ws unix.WaitStatus
	unix.Wait4(d.Pid, &ws, unix.WNOHANG, nil) // ECHILD where another process is its parent
	return nil
}

// startTime reads the start time of process pid from /proc/PID/stat.
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold anything: count from the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	// The fields after it start at field 3 (state); the start time is field 22.
	if i < 0 || len(f) < 20 {
		return 0, fmt.Errorf("sandbox: /proc/%d/stat: too short", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}
