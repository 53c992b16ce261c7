package sandbox

import (
	"errors"
	"fmt"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/namespace"
)

// startIDs is the block of host IDs that one start of a Template with an
// automatic range holds (namespace.Allocate), with its maps as the parent writes
// them, until Wait has reaped the sandbox (or the start failed). A caller that
// dies drops it with its descriptors: the kernel releases the flocks.
type startIDs struct {
	alloc            *namespace.Allocation
	uidText, gidText []byte
}

// prepareIDs does the per-start work of the user namespace before the clone: it
// allocates the start's block of IDs where the Template draws them from an
// automatic range, and copies the host mounts that the child attaches idmapped
// (child.OpenDetached), which the child inherits.
func (p *Process) prepareIDs(prog *child.Program) error {
	t := p.tmpl
	if t.auto != nil {
		a, err := namespace.Allocate(*t.auto)
		if err != nil {
			var ne *namespace.NoRangeError
			if errors.As(err, &ne) {
				return fmt.Errorf("sandbox: start: %w", err) // every block is held
			}
			return &ChildError{Stage: "user namespace", Step: "allocate a block of IDs", Op: -1, Errno: child.ErrnoOf(err), cause: err}
		}
		p.ids = &startIDs{alloc: a, uidText: namespace.FormatIDMap(a.UIDMap), gidText: namespace.FormatIDMap(a.GIDMap)}
	}
	if len(prog.Detached) == 0 {
		return nil
	}
	if err := child.OpenDetached(prog, &p.start); err != nil {
		return detachedErr(err)
	}
	return nil
}

// setDetached idmaps the start's copies of host mounts with the user namespace of
// the child pid, whose maps are written, before the parent releases it.
func (p *Process) setDetached(pid int) error {
	if err := child.SetDetached(p.prog, &p.start, pid); err != nil {
		return detachedErr(err)
	}
	return nil
}

// detachedErr reports a host mount that the parent could not copy or idmap: a
// ChildError of the stage "mounts" that names the mount and the call.
func detachedErr(err error) error {
	var de *child.DetachedError
	if !errors.As(err, &de) {
		return err
	}
	return &ChildError{Stage: "mounts", Step: de.Call + " " + de.What + " (" + de.Path + ")", Op: -1, Errno: de.Err, cause: err}
}

// releaseIDs frees the start's block of IDs, once nothing of the sandbox runs
// under them.
func (p *Process) releaseIDs() {
	if p.ids != nil {
		p.ids.alloc.Release()
		p.ids = nil
	}
}
