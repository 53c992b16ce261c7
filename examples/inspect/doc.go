// Command inspect prints what a process is isolated by: its namespaces, ID maps,
// capabilities, seccomp, no_new_privs, masked and read-only paths, SELinux label,
// Landlock support and cgroups, and which kind of sandbox that amounts to.
//
//	go run ./examples/inspect [--json] [PID]
//	go run ./examples/inspect [--json] --preset NAME
//
// Without a PID it reports on itself, so it can run inside any container. With
// --preset it describes a sandbox of that preset as this process would start it,
// before it starts (Spec.Describe): rootful, rootless, privileged (rootful),
// rootless-privileged or super-privileged.
package main
