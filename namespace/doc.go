// Package namespace describes, checks and inspects the Linux namespaces of a sandbox.
//
// A namespace gives a process its own instance of one global resource: the mount
// table (mnt), process IDs (pid), network stack (net), System V IPC and POSIX
// message queues (ipc), host and domain name (uts), user and group IDs (user),
// cgroup root (cgroup) and the monotonic and boot clocks (time). A process is in
// exactly one namespace of each kind; /proc/PID/ns/KIND names it (two processes
// share a namespace when those files have the same inode). A sandbox creates new
// ones (clone or unshare with CLONE_NEW*), joins existing ones (setns on an open
// namespace file) or shares the host's.
//
// Ownership. User namespaces nest: each has a parent, up to the initial one. Every
// other namespace is owned by the user namespace that was current when it was
// created, and capabilities act on a namespace only through that owner: root in a
// new user namespace may configure the network namespace it created, but not the
// host's. So a process that created a new user namespace cannot then join a host
// namespace (setns needs CAP_SYS_ADMIN in the target's owner); it must join the
// owning user namespace instead. NewTree shows this hierarchy with the
// NS_GET_PARENT, NS_GET_USERNS and NS_GET_OWNER_UID ioctls.
//
// ID maps. A new user namespace starts with no IDs mapped: its processes appear as
// the overflow ID (65534) until a process outside writes /proc/PID/uid_map and
// gid_map, once each, as lines "inside outside count". Root outside may map any IDs.
// An unprivileged process may map only its own ID, once; larger maps go through the
// setuid helpers newuidmap and newgidmap, which allow the subordinate ranges granted
// in /etc/subuid and /etc/subgid (see DefaultRangeMaps and RunNewIDMap).
//
// The setgroups rule. A process with a mapped GID could call setgroups(2) to drop a
// supplementary group that a file's permissions deny to it, gaining access. So an
// unprivileged writer of gid_map must first write "deny" to /proc/PID/setgroups,
// which forbids setgroups(2) in that namespace for good. A root parent writes
// "allow" instead and the child calls setgroups(0, NULL), since with "deny" the
// parent's supplementary groups (host gid 0) would stay with the sandbox. The
// values are SetgroupsAllow and SetgroupsDeny; package sandbox writes the maps
// (or runs RunNewIDMap) while its child waits for them.
//
// A Spec is plain data; Validate checks it against the running kernel and the
// caller's rights before anything is started. Inspect reports what a live process
// shares with PID 1.
package namespace
