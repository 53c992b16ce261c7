// Package sandbox starts isolated Linux processes from the caller's own program.
//
// A Spec describes a sandbox as plain data: which namespaces are new, shared or
// joined; the ID maps of a user namespace; the root filesystem (an overlay) and the
// mounts in it; the capabilities, the seccomp filter, no_new_privs, Landlock and
// SELinux; the cgroup and its limits. Presets (Rootful, Rootless, Privileged,
// SuperPrivileged) and options (WithUserNS, WithMask, WithCaps, WithSeccompProfile,
// ...) are functions that edit a Spec. A Builder validates it and compiles it, once,
// into a Template: the seccomp program, the mount table, the capability masks, the
// ID maps and every C string the child needs. Template.Start clones the calling
// process; the child, which must not allocate or grow its stack, executes that
// precompiled program with raw system calls and then executes the target. No
// daemon, no cgo, no re-execution of the Go binary.
//
// # The four kinds
//
// The kinds of container set themselves apart by the mechanisms in force. A rootful
// sandbox is started by root without a user namespace: root inside is root outside,
// held in by new namespaces, 14 capabilities, Docker's seccomp profile,
// no_new_privs, masked and read-only kernel filesystems and a device cgroup. A
// rootless sandbox adds a user namespace in which root is the caller's own user
// outside: whatever it does, it can do no more than the caller. Privileged removes
// the hardening (all capabilities, no seccomp, no masks, /sys writable, all
// devices) but keeps the namespaces new; a rootless privileged sandbox is still
// bounded by the caller's user. Super-privileged keeps only a new mount namespace and
// shows the host's "/" at /host. Inspect tells which kind a live process amounts
// to, and why.
//
// # Errors
//
// Build fails before anything is cloned, with a *SpecError (matching
// ErrInvalidSpec) or an *UnsupportedError (matching ErrNotSupported) that names the
// field, wrapping the domain package's typed error. A step that fails inside the
// child comes back from Start as a *ChildError naming its stage, what it did and
// the errno; the child is reaped and its cgroup removed, so nothing is left behind.
package sandbox
