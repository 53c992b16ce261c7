// Package filtercheck runs a sandbox's seccomp filter, with the project's BPF
// interpreter, on the system calls that are made after the filter is loaded and
// before the target runs, as the kernel will: those of the child between loading
// it and executing the target, and those of the init that PID 1 executes. A
// filter that stops one of them would fail every start, or leave it hanging until
// its context ends, so Build refuses it with the calls named.
package filtercheck

import (
	"fmt"
	"runtime"
	"syscall"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/initelf"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// ChildCalls returns the system calls that the child of prog makes between
// loading filter and executing the target (child.Program.CallsAfterSeccomp) and
// that filter stops, each once, as "name (verdict)": one that it kills or traps
// (the child dies, and on kernels before 5.16 the core dump of a vfork child
// would take its parent along), holds for a notification (the parent receives
// the listener only once the target runs), or refuses where the child cannot do
// without it (execve, exit_group, the signal mask...).
//
// The calls are evaluated with the arguments the child passes; those that differ
// between starts (descriptors, per-start addresses) are 0. A filter that decides
// on them escapes this check; the start's context then bounds what follows.
func ChildCalls(filter *seccomp.Filter, prog *child.Program) []string {
	if filter == nil {
		return nil
	}
	calls, _, ok := prog.CallsAfterSeccomp()
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
		act, data := filter.Evaluate(seccomp.Data{Nr: int32(c.Nr), Arch: uint32(info.ID), Args: c.Args})
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
	return stopped
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

// InitCalls runs filter on each system call of the init (package initelf), as
// the kernel will: a required call must be allowed, any other must at least not
// kill. It returns an error naming the first call that fails that.
func InitCalls(filter *seccomp.Filter) error {
	if filter == nil {
		return nil
	}
	arch, calls := initelf.Calls()
	for _, c := range calls {
		act, _ := filter.Evaluate(seccomp.Data{Nr: c.Nr, Arch: arch, Args: c.Args})
		switch {
		case act == seccomp.ActAllow || act == seccomp.ActLog:
		case !c.Required && (act == seccomp.ActErrno || act == seccomp.ActTrace || act == seccomp.ActNotify):
		default:
			return fmt.Errorf("the seccomp filter answers the init's %s with %s; the init needs it allowed", c.Name, act)
		}
	}
	return nil
}

// Allows reports whether filter answers every one of calls with
// SECCOMP_RET_ALLOW whatever a start passes: with the call's own arguments where
// they are fixed (child.Call.Fixed), and by its number alone (reading no
// argument) where they are not; reading the instruction pointer counts against
// both.
func Allows(filter *seccomp.Filter, calls []child.Call) bool {
	info, err := arch.GetInfo(runtime.GOARCH)
	if err != nil {
		return false
	}
	for _, c := range calls {
		act, _, reads := filter.EvaluateReads(seccomp.Data{Nr: int32(c.Nr), Arch: uint32(info.ID), Args: c.Args})
		if act != seccomp.ActAllow || reads&(1<<6) != 0 || (!c.Fixed && reads != 0) {
			return false
		}
	}
	return true
}
