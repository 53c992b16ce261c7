// Package emit turns the data that the domain packages resolve (capability
// sets, a compiled seccomp filter, the ordered mount steps, SELinux labels,
// Landlock rules) into the child's ops.
//
// The domain packages (caps, mounts, overlay, seccomp, selinux, landlock) know
// nothing of the child: their exported API takes and returns plain data, which a
// Plan prints and which this package, the one place that knows both sides,
// appends to a child.Program. Each function appends its part in the order the
// kernel needs and never fails on data that the domain package validated.
package emit
