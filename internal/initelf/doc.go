// Package initelf holds Paddock's init: the program that PID 1 of a sandbox's pid
// namespace executes when the sandbox asks for an init (sandbox.WithInit).
//
// PID 1 starts as a copy of the calling program: the child cloned from it, which
// forks the target and stays behind. A copy that never executed anything would
// hand the sandbox the caller's memory, environment and descriptors through
// /proc/1. So PID 1 executes this init instead: a few hundred bytes of x86-64
// machine code with no libc and no Go runtime, wrapped in an ELF header at run time
// and executed from a sealed memfd (Memfd) with an empty environment. It makes
// itself non-dumpable, closes every descriptor, then reaps zombies, forwards
// signals to the target and exits with the target's status, as tini and catatonit
// do.
//
// The source of truth is entry/entry_amd64.s, Go assembly that the Go toolchain
// assembles; gen copies the bytes out of a build of it into code_amd64.go, and a
// test fails when the committed bytes drift from the source:
//
//	go generate ./internal/initelf
//
// Only amd64 has an init for now: elsewhere Image and Memfd fail with an
// *UnsupportedError matching ErrNotSupported.
package initelf

//go:generate go run ./gen
