// Package mounts builds the filesystem view of a sandbox: the kernel filesystems a
// process needs (/proc, /sys, /dev), the host paths it may see, and the parts it
// must not.
//
// A mount namespace only copies the mount table; it does not isolate files. The
// child first cuts propagation with the host ("/" becomes recursively private or
// slave, so nothing it mounts leaks out), assembles the new root (package overlay),
// mounts /proc, /dev, /sys and friends and the caller's binds and tmpfs under it,
// and pivots into it: the old root is detached, and with it every host mount that
// was not bound in. Then it masks what stays dangerous in the kernel's own
// filesystems (a bind of /dev/null over a file, an empty read-only tmpfs over a
// directory) and makes the rest of /proc's knobs read-only.
//
// Every path inside the root is resolved by the child inside the root, from a
// descriptor of it (openat2 with RESOLVE_IN_ROOT), and the mounts are made on the
// descriptors it found (open_tree, mount_setattr, move_mount): a root filesystem
// whose symbolic links, ".." or misplaced files point elsewhere can make a step
// fail, but never make one reach outside the root.
//
// In a mount namespace owned by a user namespace, the kernel locks the flags of
// mounts inherited from the host (mount_setattr may add flags, never clear a
// locked one), sysfs can only be mounted by the owner of the network namespace,
// and device nodes cannot be created: the host's nodes are bound onto empty files
// instead.
//
// A tmpfs with CopyUp ([Tmpfs].CopyUp, [Mount].CopyUp) starts with what the root
// holds at its mount point: Plan has the child stop at a checkpoint once its
// mounts are made, before pivot_root, and the parent (package sandbox) copies
// the tree into the tmpfs there, by descriptor, while the child waits.
//
// [Plan] (after [PlanPropagation]) resolves a [Spec] to the child's mount steps
// ([Step]): plain, printable data, in the order the child runs them, that package
// internal/emit turns into the child's ops. [Inspect] reads back what a live
// process sees.
package mounts
