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
// In a mount namespace owned by a user namespace, the kernel locks the flags of
// mounts inherited from the host: a remount must restate nosuid, nodev, noexec, ro
// and the atime flags or fail with EPERM (the child reads them with statfs), sysfs
// can only be mounted by the owner of the network namespace, and device nodes cannot
// be created: the host's nodes are bound onto empty files instead.
//
// [Compile] turns a [Spec] into the child's ops, [Inspect] reads back what a live
// process sees.
package mounts
