package oci

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// tmpcopyup, a tmpfs option of Podman's (--tmpfs, and the tmpfs mounts that
// --read-only adds), asks the runtime to copy what the root holds at the mount
// point into the new tmpfs, so that the tmpfs starts with the image's files.
// Paddock's child copies nothing: it runs allocation-free and would need a
// bounded walker of its own (a stack of descriptors, getdents, copy_file_range,
// mknodat, symlinkat, the owners and times) to do it by descriptor inside a root
// that may be hostile. So the option is taken where the copy would be empty:
// the mount point is missing from the root or an empty directory there, as the
// root is before the container starts, or holds only the mount points of the
// configuration's other mounts (Podman's /run/.containerenv, made in the root
// for its bind), which those mounts cover whether copied or not. A directory
// that holds anything else is refused by the mount's field, naming the
// directory and an entry in it.

// checkCopyUp checks mount field's tmpcopyup, on a filesystem of type fstype
// at dst: only on a tmpfs, and only where dst in the root is missing or
// empty. It resolves dst inside the root by descriptor (RESOLVE_IN_ROOT), as
// the child resolves the mount point, and follows no magic link.
func (c *converter) checkCopyUp(field, fstype, dst string) error {
	if fstype != "tmpfs" {
		return invalid(field+".options", "tmpcopyup on a %s mount: it means a tmpfs", fstype)
	}
	root := c.spec.RootDir
	if root == "" && len(c.spec.Rootfs.Lower) == 1 {
		root = c.spec.Rootfs.Lower[0] // a read-only root: the overlay's only layer
	}
	if root == "" {
		return unsupported(field+".options", "tmpcopyup without a root directory to read %s in", dst)
	}
	covered := map[string]bool{}
	for _, m := range c.cfg.Mounts {
		covered[filepath.Join("/", m.Destination)] = true
	}
	entry, err := firstEntry(root, dst, covered)
	if err != nil {
		return invalidErr(field+".options", err)
	}
	if entry != "" {
		return unsupported(field+".options", "option \"tmpcopyup\": %s in the root holds files (%s), which Paddock does not copy into a tmpfs: it takes tmpcopyup only on an empty or missing directory", dst, entry)
	}
	return nil
}

// firstEntry returns the name of an entry of the directory dst inside root
// that is not a path of covered, "" where it has none, is missing or is no
// directory (the mount then fails on its own).
func firstEntry(root, dst string, covered map[string]bool) (string, error) {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rfd)
	how := &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(rfd, dst, how)
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return "", nil
	case err != nil:
		return "", &os.PathError{Op: "open", Path: dst + " in " + root, Err: err}
	}
	f := os.NewFile(uintptr(fd), dst)
	defer f.Close()
	for {
		names, err := f.Readdirnames(64)
		if err == io.EOF {
			return "", nil
		} else if err != nil {
			return "", err
		}
		for _, n := range names {
			if !covered[filepath.Join(dst, n)] {
				return n, nil
			}
		}
	}
}
