package sandbox

import (
	"fmt"
	"runtime"
	"strings"
	"syscall"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// checkFilterCalls runs the Template's seccomp filter, with the project's BPF
// interpreter, on every system call that the child makes between loading it and
// executing the target (child.Program.CallsAfterSeccomp), as the kernel will, and
// refuses a filter that stops one of them: one that kills or traps it (the child
// dies, and on kernels before 5.16 the core dump of a vfork child would take its
// parent along), holds it for a notification (the parent receives the listener
// only once the target runs), or refuses one that the child cannot do without
// (execve, exit_group, the signal mask...). Such a filter would fail every start,
// or leave it hanging until its context ends.
//
// The calls are evaluated with the arguments the child passes; those that differ
// between starts (descriptors, per-start addresses) are 0. A filter that decides
// on them escapes this check; the start's context then bounds what follows.
func (t *Template) checkFilterCalls() error {
	if t.filter == nil {
		return nil
	}
	calls, _, ok := t.prog.CallsAfterSeccomp()
	if !ok {
		return nil
	}
	info, err := arch.GetInfo(runtime.GOARCH)
	if err != nil {
		return nil // no filter can be compiled here either
	}
	var stopped []string
	seen := map[string]bool{}
	for _, c := range calls {
		act, data := t.filter.Evaluate(seccomp.Data{Nr: int32(c.Nr), Arch: uint32(info.ID), Args: c.Args})
		if passes(c, act, data) {
			continue
		}
		name := info.SyscallNumbers[int(c.Nr)]
		if name == "" {
			name = fmt.Sprintf("system call %d", c.Nr)
		}
		what := name + " (" + verdict(act, data) + ")"
		if !seen[what] {
			seen[what] = true
			stopped = append(stopped, what)
		}
	}
	if len(stopped) == 0 {
		return nil
	}
	return &SpecError{Field: "seccomp", Err: fmt.Errorf(
		"the filter stops system calls that the sandbox makes between loading it and executing the target: %s; they must be allowed",
		strings.Join(stopped, ", "))}
}

// passes reports whether call c of the child gets through a filter that answers
// it with act (and data, the errno of ActErrno).
func passes(c child.Call, act seccomp.Action, data uint16) bool {
	switch act {
	case seccomp.ActAllow, seccomp.ActLog:
		return true
	case seccomp.ActErrno:
		return c.Tolerates(syscall.Errno(data))
	case seccomp.ActTrace:
		return c.Tolerates(syscall.ENOSYS) // what the call gets without a tracer
	}
	// Killed or trapped, the child dies; notified, it waits for a supervisor
	// that cannot answer before Start returns.
	return false
}

// verdict describes a filter's answer for an error message.
func verdict(act seccomp.Action, data uint16) string {
	if act == seccomp.ActErrno {
		if name := unix.ErrnoName(syscall.Errno(data)); name != "" {
			return "errno " + name
		}
		return fmt.Sprintf("errno %d", data)
	}
	return string(act)
}
