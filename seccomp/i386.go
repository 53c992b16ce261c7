package seccomp

import (
	"fmt"
	"sync"
	"syscall"

	"github.com/paddock-sandbox/paddock/internal/child"
)

// I386 says what becomes of an i386 system call that an x86_64 process makes
// through the 32-bit gate, int 0x80.
type I386 string

// The states of the i386 gate.
const (
	// I386Open: the call reaches the kernel's i386 table, where a sandbox's filter
	// must stop it (Compile's prologue kills every foreign architecture).
	I386Open I386 = "open"
	// I386NoEmulation: the kernel has no IA32 emulation (built without it, or
	// booted with ia32_emulation=false). The instruction faults with SIGSEGV
	// before any system call is dispatched: no i386 call reaches the kernel, and
	// no filter ever sees one.
	I386NoEmulation I386 = "closed: the kernel has no IA32 emulation"
	// I386Filtered: a seccomp filter that this process is under, and that every
	// sandbox it starts inherits, kills i386 calls.
	I386Filtered I386 = "closed: a seccomp filter of the caller kills i386 calls"
	// I386None: not an x86_64 process; there is no int 0x80 gate.
	I386None I386 = "none: not an x86_64 process"
)

// Closed reports whether no i386 call of a sandbox started by this process can
// reach the kernel, whatever the sandbox's own filter.
func (g I386) Closed() bool { return g != I386Open }

var probeI386 = sync.OnceValues(func() (I386, error) {
	ws, err := child.ProbeInt80()
	switch {
	case err == syscall.ENOSYS:
		return I386None, nil
	case err != nil:
		return "", fmt.Errorf("seccomp: probe the i386 gate: %w", err)
	case child.Int80Ran(ws):
		return I386Open, nil
	case ws.Signaled() && ws.Signal() == syscall.SIGSEGV:
		return I386NoEmulation, nil
	case ws.Signaled() && ws.Signal() == syscall.SIGSYS:
		return I386Filtered, nil
	}
	return "", fmt.Errorf("seccomp: probe the i386 gate: the probe ended with wait status %#x", uint32(ws))
})

// I386Gate reports, from a probe made once per process (a forked child that makes
// one i386 call), whether i386 system calls reach the kernel from this process
// and the sandboxes it starts.
func I386Gate() (I386, error) { return probeI386() }
