// Package child is the allocation-free half of a sandbox start.
//
// Between clone and execve the new process is a copy of the Go program with one thread, no
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
package child
