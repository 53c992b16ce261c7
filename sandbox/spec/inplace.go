package spec

import (
	"errors"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
)

// buildsFilesystem reports whether the child sets up the sandbox's filesystem:
// in a new mount namespace, or in place (RootInPlace) in a joined one or the
// caller's.
func (s *Spec) buildsFilesystem() bool {
	return s.Namespaces.Mode(namespace.Mount) == namespace.New || s.RootInPlace
}

// BuildsFilesystem reports whether the child sets up the sandbox's filesystem
// (a new mount namespace, or RootInPlace): its root and mounts, then a
// working directory resolved inside that root.
func (s *Spec) BuildsFilesystem() bool { return s.buildsFilesystem() }

// InCallerMountNS reports whether the sandbox's root is set up in the caller's
// own mount namespace (RootInPlace without a mount namespace of its own).
func (s *Spec) InCallerMountNS() bool {
	return s.RootInPlace && s.Namespaces.Mode(namespace.Mount) == namespace.Host
}

// checkRootInPlace checks a root set up in place: a root directory, in a
// joined mount namespace or the caller's; in the caller's, mounted with
// CAP_SYS_ADMIN over it (no new user namespace, a capable caller), entered
// with chroot, by a child the parent serves before the target runs (fork
// mode), without the shared propagation that would join the caller's peer
// groups.
func (s *Spec) checkRootInPlace() error {
	if !s.RootInPlace {
		return nil
	}
	switch {
	case s.Namespaces.Mode(namespace.Mount) == namespace.New:
		return specErr("rootInPlace", "a root set up in place needs a joined mount namespace or the caller's, not a new one")
	case s.RootDir == "":
		return &SpecError{NotSupported: true, Field: "rootInPlace", Err: errors.New(
			"a root set up in place must be a root directory (WithRootDir): an overlay root is assembled only in a new mount namespace")}
	case !s.InCallerMountNS():
		return nil
	case s.Namespaces.Mode(namespace.User) != namespace.Host:
		return &SpecError{NotSupported: true, Field: "rootInPlace", Err: errors.New(
			"mounting in the caller's mount namespace needs CAP_SYS_ADMIN over the user namespace that owns it, which a child in another user namespace lacks")}
	case !callerHas(caps.SysAdmin):
		return &SpecError{NotSupported: true, Field: "rootInPlace", Err: errors.New(
			"mounting in the caller's mount namespace needs CAP_SYS_ADMIN, which this caller lacks")}
	case s.Spawn == SpawnVfork:
		return specErr("spawn", "a root in the caller's mount namespace needs fork mode: the parent detaches it from the caller's namespace while the child waits")
	}
	switch s.Mounts.RootPropagation {
	case "", mounts.Private, mounts.RPrivate:
		return nil
	}
	return &SpecError{NotSupported: true, Field: "mounts.rootPropagation", Err: errors.New(
		"a root in the caller's mount namespace is a private mount of the sandbox's own: it takes no other propagation")}
}

// rootInPlace returns the steps that make a root set up in place: in a joined
// mount namespace, named as steps on paths of the caller's, which must exist
// there; in the caller's, followed by the step that makes the bound root and
// its mounts private.
func (s *Spec) rootInPlace(root []mounts.Step, staging string) []mounts.Step {
	switch {
	case s.InCallerMountNS():
		return append(root, mounts.PrivateTree(staging))
	case s.RootInPlace:
		for i := range root {
			root[i].What += ", paths of the caller's that must exist in the joined mount namespace"
		}
	}
	return root
}
