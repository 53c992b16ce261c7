package spec

import (
	"fmt"
	"path/filepath"

	"github.com/paddock-sandbox/paddock/namespace"
)

// checkCopyUp checks the tmpfs mounts that are filled from the root
// (mounts.Tmpfs.CopyUp, mounts.Mount.CopyUp) for caller c: the parent copies
// the files while the child waits before pivot_root, so they need a root
// filesystem the parent can read on the host (a root directory, or the layers
// of an overlay other than the host's "/"), fork mode, a mount point other
// than "/", and, for a rootless caller, a sandbox whose root is the caller: its
// copies are its own, and the kernel refuses files in the sandbox's tmpfs
// under an ID that the user namespace does not map (EOVERFLOW). A root caller
// copies as the sandbox's root, whatever its namespace maps (see the sandbox
// package).
func (s *Spec) checkCopyUp(c ids) error {
	if !s.Mounts.CopiesUp() {
		return nil
	}
	why := s.copyUpRefusal(c)
	check := func(field, target string) error {
		switch {
		case filepath.Clean(target) == "/":
			return specErr(field, "copy-up of a tmpfs on \"/\" would copy the whole root")
		case why != "":
			return specErr(field, "copy-up of the tmpfs on %s: %s", target, why)
		}
		return nil
	}
	for i, m := range s.Mounts.Mounts {
		if m.CopyUp {
			if err := check(fmt.Sprintf("mounts.mounts[%d].copyUp", i), m.Target); err != nil {
				return err
			}
		}
	}
	for i, t := range s.Mounts.Tmpfs {
		if t.CopyUp {
			if err := check(fmt.Sprintf("mounts.tmpfs[%d].copyUp", i), t.Target); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyUpRefusal says why the Spec cannot fill a tmpfs from its root for
// caller c, or "".
func (s *Spec) copyUpRefusal(c ids) string {
	ns := &s.Namespaces
	switch {
	case !s.buildsFilesystem() || s.NoRootfs || s.onHostRoot():
		return "it needs a root filesystem to copy from (a root directory or the layers of an overlay)"
	case s.RootInPlace && !s.InCallerMountNS():
		return "a root set up in a joined mount namespace is not reachable from the host"
	case s.RootDir == "" && s.rootHasHostLayer():
		return "the host's \"/\" as a layer of the overlay is not copied from"
	case s.Spawn == SpawnVfork:
		return "the parent copies while the child waits, which a vfork child cannot (fork mode)"
	case c.uid == 0:
		return ""
	case ns.Mode(namespace.User) == namespace.Join:
		return "a rootless caller's copies are its own, and the root of a joined user namespace may be another user"
	}
	if ns.Mode(namespace.User) == namespace.New {
		uidMap, gidMap := s.IDMaps(c.uid, c.gid)
		if !mapsTo(uidMap, 0, uint32(c.uid)) || !mapsTo(gidMap, 0, uint32(c.gid)) {
			return "a rootless caller's copies are its own, and the user namespace does not map the caller to its root"
		}
	}
	return ""
}

// rootHasHostLayer reports whether the overlay root has the host's "/" as a
// layer.
func (s *Spec) rootHasHostLayer() bool {
	for _, l := range s.Rootfs.Lower {
		if l == "/" {
			return true
		}
	}
	return false
}
