package child

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// KindRerootCopy enters a detached copy of the child's whole root tree: it
// copies the mount at the C string Args[0] ("/", the child's root) with every
// mount beneath it (open_tree, OPEN_TREE_CLONE and AT_RECURSIVE), changes to
// the copy and makes it the root (fchdir, chroot of the C string Args[1],
// "."), and closes the copy's descriptor. A copy's mounts stay connected to
// one another when its descriptor closes, while the mounts of a tree that
// umount2 detaches lazily are cut apart (the sandbox would see the bare
// directories under its /proc and /dev); so the child of a root in the
// caller's mount namespace enters a copy, and the parent detaches the tree
// it was made in (see package sandbox's inplace.go). The copy has no parent
// mount: ".." at its top leads nowhere else.
const KindRerootCopy Kind = 200

// rerootCopy is KindRerootCopy for the forked child: it must not allocate or
// grow the stack, so it takes pre-built C strings and returns the raw errno.
//
//go:nosplit
//go:norace
func rerootCopy(root, dot uintptr) syscall.Errno {
	fd, _, e := syscall.RawSyscall6(unix.SYS_OPEN_TREE, uintptr(atFDCWD), root,
		unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE, 0, 0, 0)
	if e != 0 {
		return e
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_FCHDIR, fd, 0, 0, 0, 0, 0)
	if e == 0 {
		_, _, e = syscall.RawSyscall6(unix.SYS_CHROOT, dot, 0, 0, 0, 0, 0)
	}
	closeFD(int32(fd))
	return e
}
