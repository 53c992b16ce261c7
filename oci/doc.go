// Package oci turns the configuration of an OCI runtime bundle (its config.json,
// in the types of github.com/opencontainers/runtime-spec/specs-go) into a sandbox
// Spec and the Command its process runs: the first piece of an OCI runtime that
// container engines (Podman, containerd, Kubernetes through CRI) can drive.
//
// An OCI runtime does exactly what the configuration says and nothing else: it
// mounts only the mounts listed, masks only the paths listed, creates only the
// namespaces listed and grants only the capabilities listed. Convert therefore
// starts from an empty Spec, not from a preset: no default mounts, no default
// masks, no seccomp filter and no SELinux label unless the configuration asks
// for them.
//
// Whatever the configuration asks for that Paddock cannot honour fails with a
// *FieldError naming the field in the OCI JSON path form ("process.scheduler",
// "linux.sysctl.kernel.panic", "mounts[3].options"): it matches sandbox.ErrNotSupported where
// Paddock (or this host) lacks the feature, and sandbox.ErrInvalidSpec where the
// configuration itself is wrong. Nothing is dropped silently. Properties that
// the runtime spec does not define at all are the exception the spec makes:
// ReadConfig ignores them, as a runtime must, and UnknownFields names them for
// the runtime to report. What Convert
// accepts is checked again, against the host and the caller, by
// sandbox.Builder.Build, whose errors name the Spec's fields.
//
// Sysctls are checked as runc checks them: only those of a namespace that the
// container has of its own (net.* with a network namespace, the System V IPC
// ones and fs.mqueue.* with an ipc namespace, kernel.domainname with a uts
// namespace) and never kernel.hostname, which the hostname field sets; the
// sandbox's child writes them to the /proc/sys of the container's /proc, which
// the configuration must mount. The umask, the personality (LINUX or LINUX32),
// the OOM score adjustment, the scheduler, the I/O priority and the CPU
// affinity are set by the child too; what needs a capability over the host (a
// score below the caller's, a realtime policy, a lower nice value, the realtime
// I/O class) is refused, naming the field, where the caller lacks it or a user
// namespace stands between.
//
// The cgroup settings beyond the common limits (memory reservation,
// swappiness and disableOOMKiller, CPU burst, idle and realtime bandwidth,
// memory nodes, block I/O weights and throttles of single devices, huge page
// limits, net_cls and net_prio, rdma, and unified files) are checked against the host's cgroups as Build will check them
// (cgroup.CheckHost): one whose controller or file is not there, a v1-only
// one on a v2 host, unified files on a v1 host, or any for an unprivileged
// caller on cgroup v1, fails naming the field.
package oci
