// Command syscalls measures what one system call costs inside a Paddock sandbox and
// inside crun, each with its default seccomp profile, beside the same call with no
// sandbox at all, on the same machine in the same run.
//
//	syscalls -rootfs DIR -probe SYSPROBE -paddock RUN [-n 2000000] [-rounds 5] [-o out.json] [-md BENCHMARKS.md]
//	syscalls -print-seccomp podman|docker
//
// The probe (internal/testutil/sysprobe, a static binary) runs its loop mode, N raw
// calls timed by itself, for two calls: getpid, which every profile allows by number
// alone (the kernel caches that verdict per number since Linux 5.11, so the filter
// does not run), and personality(0xffffffff), which the profiles allow by a rule on
// its argument (the whole filter program runs on every call). Each is run in:
//
//   - host: the probe with no sandbox;
//   - crun-unconfined, crun-podman, crun-docker: `crun run` of a bundle from `crun
//     spec` with the busybox rootfs as root, the probe bound read-only at /probe,
//     and no seccomp section, the profile Podman gives crun by default
//     (containers-common's /usr/share/containers/seccomp.json resolved for Podman's
//     11 default capabilities; crun has no built-in default) or Docker's default
//     resolved for Docker's 14 capabilities (the rules Paddock loads), with the
//     bundle's capabilities set to match;
//   - paddock-unconfined, paddock: examples/run (`run --rootfs DIR -v
//     PROBE:/probe:ro -- /probe loop ...`) without a filter and with its default
//     (Docker's profile for Docker's 14 capabilities).
//
// First each sandbox is checked: personality(1), which every profile refuses, must
// fail in the confined ones and succeed in the others. Then the modes run one after
// the other, round after round, the order rotated each round so that none is always
// first; the table gives each one's median ns per call and its overhead over host.
//
// Run it as root. crun 1.8.1 refuses to start while the cgroup v2 mount of a hybrid
// host lists a controller, so the command re-executes itself once in a new mount
// namespace (/ made rprivate) where /sys/fs/cgroup/unified is detached; every mode,
// not only crun, runs there. Bundles and crun's state (--root) live in a temporary
// directory removed at the end; if the rootfs lacks /probe, the empty mount point
// created there is removed too.
//
// crun's libseccomp refuses two things containers-common's file holds: a repeated
// rule, and its socket rules for NETLINK_AUDIT (see forLibseccomp); those rules are
// left out, and named on stderr. Neither concerns the calls measured.
//
// With -print-seccomp it only writes the linux.seccomp section of an OCI runtime
// config for that profile and exits.
package main
