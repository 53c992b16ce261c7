package sandbox

import (
	"strings"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/handshake"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"golang.org/x/sys/unix"
)

// The fuse overlay driver. The child cannot run fuse-overlayfs itself (it has one
// execve, for the target), so it stops at a checkpoint once its staging tmpfs is
// mounted (overlay.Spec.Plan), and the parent runs fuse-overlayfs in the
// child's user and mount namespaces with nsenter(1) from util-linux, waits until
// the mount is up, and releases the child. The daemon belongs to the Process: it
// keeps the sandbox's mount namespace alive, so Wait (or a failed Start) stops it.

// compileFuse keeps the fuse-overlayfs command that Start runs at the child's
// checkpoint, when the root filesystem r resolves to the fuse driver.
func (t *Template) compileFuse(r overlay.Spec, env overlay.Env) error {
	if d, err := r.Resolve(env); err != nil || d != overlay.Fuse {
		return nil
	}
	cmd, err := r.FuseCommand(env)
	if err != nil {
		return &SpecError{Field: "rootfs", Err: err}
	}
	t.fuse = cmd
	return nil
}

// checkpoint mounts the root with fuse-overlayfs in the waiting child's
// namespaces and releases the child; or serves a held start's checkpoint
// before pivot_root (pivotCheckpoint).
func (p *Process) checkpoint(syncFD int) error {
	t := p.tmpl
	if p.atPivotCheckpoint() {
		return p.pivotCheckpoint(syncFD)
	}
	if t.callerMountNS && !p.stagingDetached {
		return p.stagingCheckpoint(syncFD)
	}
	if t.fuse == nil || syncFD < 0 || p.fuse != nil {
		return &ChildError{Stage: "root filesystem", Step: "unexpected checkpoint", Op: child.CheckpointOp, Errno: unix.EPROTO}
	}
	ns := overlay.FuseNamespaces{User: t.userNS, PreserveCredentials: t.setgroups == namespace.SetgroupsDeny}
	d, err := t.fuse.StartFuse(p.pid, ns)
	if err != nil {
		return &ChildError{Stage: "root filesystem", Step: "run " + strings.Join(t.fuse.Args(), " "), Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
	}
	p.fuse = d
	if err := handshake.Release(syncFD); err != nil {
		return &ChildError{Stage: "root filesystem", Step: "release the child after mounting the root", Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
	}
	return nil
}

// stopFuse stops the fuse-overlayfs daemon of this sandbox, if it has one.
func (p *Process) stopFuse() {
	if p.fuse != nil {
		p.fuse.Stop()
	}
}
