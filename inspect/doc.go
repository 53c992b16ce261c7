// Package inspect tells what a live Linux process is isolated by, and which kind
// of sandbox that amounts to, in the manner of amicontained.
//
// The kernel shows most of it in /proc: a process's namespaces are the inodes of
// /proc/PID/ns/*, new where they differ from a reference process's (or, with no
// process outside to compare with, from the fixed inodes the kernel gives its
// initial namespaces); its user namespace's ID maps, capability sets, seccomp
// mode, no_new_privs flag, mounts, cgroups and resource limits are files beside
// them. What the kernel does not show, it cannot report: a seccomp filter's
// program (only the mode and the number of filters) and a Landlock domain.
//
// Process, ProcessAgainst and Self fill a Report, plain data that marshals to
// JSON; Classify derives its Kind (KindRootful, KindRootless, KindPrivileged,
// KindSuperPrivileged or KindHost) and the reasons for it from the other fields,
// so that a Report built from a Spec before it starts (sandbox's Spec.Describe)
// is classified the same way. WriteText prints it as a table for people.
//
// Package inspect reads processes; it starts none and does not depend on package
// sandbox, which builds on it.
package inspect
