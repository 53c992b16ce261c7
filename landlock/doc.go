// Package landlock restricts what a sandbox may do to the filesystem with Landlock, the
// unprivileged Linux security module (Linux 5.13+).
//
// A process builds a ruleset that names the kinds of access it wants the kernel to handle
// (read files, write files, make directories, execute, ...), adds rules granting some of
// those kinds beneath given directories or on given files, and enforces it on itself with
// landlock_restrict_self. From then on, and across execve, every handled access outside
// the granted hierarchies fails with EACCES; accesses the ruleset does not handle stay
// allowed. Restrictions only ever add up: a process cannot lift them, only stack more.
//
// Rules are tied to the files an O_PATH descriptor names, not to path strings, so the
// child builds the ruleset itself after pivot_root, on the paths as the sandbox sees them
// (a ruleset built in the parent on host paths does not apply through an overlay root).
// This package only validates a Spec and resolves the ABI at which that step enforces it
// (see Spec.Resolve, HandledAccessFS and FileAccessFS).
//
// Each kernel release added access kinds, announced by the ABI version that
// landlock_create_ruleset returns: 1 (5.13) the first 13, 2 (5.19) REFER (moving files
// between directories), 3 (6.2) TRUNCATE, 5 (6.10) IOCTL_DEV. The compiled ruleset
// handles every filesystem access kind of the running ABI that this package knows (up to
// ABI 7), so that nothing is granted by omission.
//
// landlock_restrict_self needs no_new_privs or CAP_SYS_ADMIN in the caller's user
// namespace; the child sets no_new_privs before this step.
//
// Landlock state cannot be read back: /proc shows no domain, and no syscall reports
// whether a process is restricted or by what. There is therefore no Inspect here; what a
// sandbox is allowed is what its Spec says.
package landlock
