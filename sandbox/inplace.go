package sandbox

import (
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/handshake"
	"github.com/paddock-sandbox/paddock/internal/owner"
)

// A root in the caller's mount namespace (WithRootInCallerMountNS) is mounted
// by the child below the Template's staging directory, which it first makes a
// private mount of its own, and entered with chroot. Once the child has made
// every mount of its setup, it enters a detached copy of its whole root tree
// (child.KindRerootCopy) and stops at a checkpoint, and the parent detaches
// the staging directory's mounts from the caller's namespace (umount2 with
// MNT_DETACH): the caller's mount table is as it was before the start, and
// the sandbox keeps its root, whose copy belongs to no mount namespace and
// has no parent mount. The copy is needed because a tree that umount2
// detaches lazily is cut apart, each mount from its parent: the sandbox would
// see the bare directories under its /proc and /dev. A start that fails is
// undone the same way once its child is dead. The mounts of a start are made
// on the one staging directory, so the starts of the Template take turns
// (Template.stagingMu).

// compileStagingDetach appends, for a root in the caller's mount namespace,
// the steps that enter a copy of it and the checkpoint at which the parent
// detaches it, after the last step that mounts (the terminal's bind on
// /dev/console) and before the working directory, resolved in the copy.
func (t *Template) compileStagingDetach(p *child.Program) {
	if !t.spec.InCallerMountNS() {
		return
	}
	t.callerMountNS = true
	var reroot, open child.Op
	reroot.Kind, reroot.Args[0], reroot.Args[1] = child.KindRerootCopy, p.CString("/"), p.CString(".")
	p.Append(reroot, "mount", "enter a detached copy of the root's mounts (open_tree, OPEN_TREE_CLONE, AT_RECURSIVE; chroot)")
	open.Kind, open.Args[0] = child.KindOpenRoot, p.CString("/")
	p.Append(open, "mount", "open the copy of the root")
	p.Append(child.Op{Kind: child.KindCheckpoint}, "mount",
		"wait for the parent to detach the root from the caller's mount namespace")
}

// stagingCheckpoint serves the checkpoint of a root in the caller's mount
// namespace: it detaches the root and releases the child.
func (p *Process) stagingCheckpoint(syncFD int) error {
	p.stagingDetached = true
	if err := p.tmpl.detachStaging(); err != nil {
		return &ChildError{Stage: "mount", Step: "detach the root from the caller's mount namespace (umount2 " + p.tmpl.staging + ", MNT_DETACH)",
			Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
	}
	if err := handshake.Release(syncFD); err != nil {
		return &ChildError{Stage: "mount", Step: "release the child after detaching its root", Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
	}
	return nil
}

// undoStaging detaches what a failed start left on the staging directory in
// the caller's mount namespace, once its child is dead.
func (p *Process) undoStaging() {
	if p.tmpl.callerMountNS && !p.stagingDetached {
		p.stagingDetached = true
		p.tmpl.detachStaging()
	}
}

// detachStaging detaches every mount stacked on the staging directory
// (owner.DetachMounts).
func (t *Template) detachStaging() error {
	return owner.DetachMounts(t.staging, owner.MaxStagingMounts)
}
