package mounts

import (
	"errors"
	"fmt"

	"github.com/moby/sys/mountinfo"
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/probecache"
	"golang.org/x/sys/unix"
)

// idmapProbes caches IDMapSupported per mount ID and recursion.
var idmapProbes probecache.Cache[idmapKey]

type idmapKey struct {
	mount     int
	recursive bool
}

// IDMapSupported reports whether root can make an idmapped copy of the mount
// that the host path lies on (and, recursive, of every mount beneath it), as an
// idmapped bind does: it copies it (open_tree) and idmaps the copy with a user
// namespace of its own (mount_setattr with MOUNT_ATTR_IDMAP), then drops both.
// The answer is cached per mount. A refusal matches ErrNotSupported, wraps the
// errno and names the path, its filesystem type and the reason.
func IDMapSupported(path string, recursive bool) error {
	id, err := mountID(path)
	if err != nil {
		return &MountError{Source: path, FSType: "bind", Err: err, Invalid: true}
	}
	return idmapProbes.Do(idmapKey{id, recursive}, func() error { return probeIDMap(path, recursive) }, func(err error) bool {
		return errors.Is(err, ErrNotSupported)
	})
}

// mountID returns the ID of the mount that path lies on.
func mountID(path string) (int, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, err
	}
	return int(stx.Mnt_id), nil
}

func probeIDMap(path string, recursive bool) error {
	fail := func(reason string, err error) error {
		return fmt.Errorf("%w: idmapped mount of %s (%s): %s: %w", ErrNotSupported, path, fsTypeOf(path), reason, err)
	}
	if unix.Geteuid() != 0 {
		return fail("only root may idmap a mount (CAP_SYS_ADMIN over the user namespace of its filesystem)", unix.EPERM)
	}
	userns, err := child.NewUserNS()
	if err != nil {
		return fail("no user namespace to idmap with", err)
	}
	defer unix.Close(userns)
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	var setFlags uint
	if recursive {
		flags |= unix.AT_RECURSIVE
		setFlags = unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, flags)
	if err != nil {
		return &MountError{Source: path, FSType: "bind", Err: err}
	}
	defer unix.Close(tree)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	switch err := unix.MountSetattr(tree, "", setFlags|unix.AT_EMPTY_PATH, &attr); {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOSYS):
		return fail("the kernel lacks idmapped mounts (mount_setattr, Linux 5.12)", err)
	case errors.Is(err, unix.EPERM):
		return fail("the caller may not idmap it (CAP_SYS_ADMIN over its filesystem: root)", err)
	default:
		return fail("the filesystem does not support idmapped mounts", err)
	}
}

// fsTypeOf names the filesystem type of the mount that path lies on, the deepest
// mount point above it.
func fsTypeOf(path string) string {
	ms, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil || len(ms) == 0 {
		return "unknown filesystem"
	}
	deepest := ms[0]
	for _, m := range ms[1:] {
		if len(m.Mountpoint) > len(deepest.Mountpoint) {
			deepest = m
		}
	}
	return deepest.FSType
}
