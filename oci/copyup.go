package oci

// tmpcopyup, a tmpfs option of Podman's (--tmpfs, --mount type=tmpfs, and the
// tmpfs mounts that --read-only adds), asks the runtime to copy what the root
// holds at the mount point into the new tmpfs, so that the tmpfs starts with
// the image's files. It becomes the mount's mounts.Mount.CopyUp: the container
// stops before pivot_root, and the runtime, in Go, copies the tree of the root
// directory (or of the read-only root's only layer) at the mount point into
// the tmpfs, both resolved inside their roots by descriptor
// (RESOLVE_IN_ROOT), following no symbolic link of the root out of it. See
// the sandbox package for what is copied and how. The mount points of the
// configuration's other mounts below it (Podman's /run/.containerenv) are
// left to those mounts.

// checkCopyUp checks mount field's tmpcopyup, on a filesystem of type fstype:
// only on a tmpfs, and only with a root directory to copy from.
func (c *converter) checkCopyUp(field, fstype, dst string) error {
	if fstype != "tmpfs" {
		return invalid(field+".options", "tmpcopyup on a %s mount: it means a tmpfs", fstype)
	}
	if c.spec.RootDir == "" && len(c.spec.Rootfs.Lower) == 0 {
		return unsupported(field+".options", "tmpcopyup without a root directory to read %s in", dst)
	}
	return nil
}
