// Package privatens runs a benchmark in a mount namespace of its own in which the
// cgroup v2 mount of a hybrid host is detached: crun 1.8.1 refuses to run while that
// mount lists a controller, and every command compared must run in the same kind of
// namespace, so the whole harness moves there, not crun alone.
package privatens
