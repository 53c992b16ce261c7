// Package child is the allocation-free half of a sandbox start.
//
// Between clone and execve the new process is a copy of the Go program (in vfork and shared
// mode, a process that shares its memory, on a stack of its own) with one thread, no
// scheduler and a stack it must not grow: it may only call assembly and //go:nosplit functions,
// and it must not allocate, take locks or touch the race detector. Everything it needs is
// therefore computed before the clone by the domain packages and handed to it as a Program, a
// flat table of Ops: each Op is a raw system call with its arguments already in place, or one of
// a few composite steps (the in-root steps that resolve a path inside the root by descriptor and
// work on what they found, a Landlock ruleset) that
// still need a little logic on the child's side.
//
// The child walks the table in order, stops at the first step that fails and reports
// {op index, errno} to the parent over a close-on-exec pipe; the parent, which keeps the
// description of every op, turns that into a typed error naming the step. EOF on that pipe
// with nothing written means execve succeeded.
//
// The package builds only for linux/amd64: the vfork trampoline and the deadline
// timer are amd64 assembly. On any other platform its build fails at the
// identifier paddock_supports_only_linux_amd64, and with it every package of
// Paddock that starts a sandbox.
package child
