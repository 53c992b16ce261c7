// Package cgroup places each sandbox in its own control group: a kernel object that
// groups processes so that their memory, process count, CPU time, CPU placement, block
// I/O weight and device access can be limited, accounted and killed as one.
//
// Control groups come in two versions. Version 1 mounts one hierarchy per controller
// (/sys/fs/cgroup/memory, /sys/fs/cgroup/pids, ...): a sandbox gets one directory in
// every hierarchy it needs, and a process must be written into each. Version 2 has a
// single unified hierarchy in which a parent hands controllers down to its children
// through cgroup.subtree_control; device access there is an eBPF program, not a file.
// A hybrid host mounts the v1 hierarchies plus a v2 hierarchy at /sys/fs/cgroup/unified
// that usually carries no controllers: it can still group, kill (cgroup.kill) and
// remove processes, so this package uses v1 for limits and v2 for grouping there.
//
// Device rules ([DefaultDevices] is moby's set) are written to the v1 devices
// controller, or compiled into a BPF_CGROUP_DEVICE program that is attached to the
// sandbox's v2 directory. The kernel runs both checks on every mknod and open of a
// device node, so on a hybrid host a program attached to the unified directory is
// enforced as well; [DeviceEnforcement] chooses.
//
// A child joins its cgroups as its first step, before it creates a cgroup namespace:
// the namespace's root is the cgroup the process is in when it unshares, so joining
// later would leave /proc/self/cgroup showing "/../.." paths and the sandbox would see
// its own cgroup as outside its namespace. On v1 the child writes "0" to the "tasks"
// files that the parent opened for it ([Cgroup.JoinFDs]): it is single-threaded, so
// moving its one thread moves it, without the global lock (and RCU grace period)
// that a write to cgroup.procs takes. On v2 the parent clones it straight into the
// cgroup with clone3's CLONE_INTO_CGROUP ([Cgroup.CloneFD]).
//
// Only root can create cgroups in the v1 hierarchies: they cannot be delegated. An
// unprivileged caller gets limits only from a v2 subtree delegated to it (for example
// by systemd's Delegate=yes), recognised here by a cgroup directory the caller can
// write. [Plan] says in advance what [Create] will do for a given caller.
package cgroup
