// Package overlay assembles the root filesystem of a sandbox with overlayfs and
// reports what a sandbox changed in it.
//
// Overlayfs stacks read-only lower directories under one writable upper directory:
// reads fall through to the highest layer that holds a name, writes copy the file up
// into the upper directory first, and a deletion leaves a whiteout there (a 0:0
// character device) so that the lower entry stays hidden. A directory that replaces
// a lower one wholesale is marked opaque with an extended attribute
// (trusted.overlay.opaque, or user.overlay.opaque with the userxattr option that a
// user namespace needs). The upper directory therefore is the complete, replayable
// record of a sandbox's changes: [Diff] reads it back.
//
// [Spec.Plan] turns a Spec into the child's steps (package mounts' [mounts.Step],
// plain data that a plan prints and package internal/emit turns into the child's
// ops): inside the child's private
// mount namespace it mounts a small tmpfs on a staging directory (the caller's empty
// directory, shadowed only in that namespace), mounts the overlay at
// staging/root (see [NewRoot]) and, for an ephemeral sandbox, keeps the upper and work
// directories in that tmpfs, so nothing is left to clean on the host when the
// namespace dies. Overlayfs reads its layers below any mounts on them, so the host's
// own "/" as the lower layer does not recurse into the staging directory.
//
// Inside a user namespace the kernel driver needs the userxattr option
// ([KernelInUserNS] probes for it once); fuse-overlayfs is the fallback where it
// fails ([Spec.Resolve]). A FUSE filesystem is served by a process, which the child
// cannot start before it executes its target: the child stops at a checkpoint after
// mounting its staging tmpfs, and the parent runs fuse-overlayfs in the child's user
// and mount namespaces with nsenter(1) ([FuseCommand.StartFuse]), waits for the mount
// to appear, and releases the child. The daemon is then a member of the sandbox's
// mount namespace and keeps it alive: its owner stops it when the sandbox is gone
// ([FuseDaemon.Stop]). fuse-overlayfs reads the host's "/" through the mounts on it,
// so no per-directory split is needed, but the host's submounts are part of the lower
// layer (the sandbox mounts its own /proc, /dev and /sys over theirs).
package overlay
