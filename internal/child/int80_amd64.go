package child

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func int80Fork(fault bool) (pid uintptr, errno syscall.Errno)

// The exit codes of the int 0x80 probe's child.
const (
	int80Ran      = 42 // the i386 exit(42) ran
	int80Returned = 43 // int 0x80 returned instead of exiting
)

// ProbeInt80 forks a child that makes an i386 system call, exit(42), through the
// int 0x80 gate, and returns how the child ended: exit status 42 where the call
// reached the kernel, SIGSEGV where the kernel has no IA32 emulation (the
// instruction faults before any system call is dispatched), SIGSYS where a
// seccomp filter that this process is under kills i386 calls.
func ProbeInt80() (syscall.WaitStatus, error) { return probeInt80(false) }

// probeInt80 is ProbeInt80; with fault set, the child faults where it would enter
// the gate, as it does on a kernel without IA32 emulation.
func probeInt80(fault bool) (syscall.WaitStatus, error) {
	pid, e := forkInt80(fault)
	if e != 0 {
		return 0, e
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(int(pid), &ws, unix.WALL, nil)
		if err != syscall.EINTR {
			return ws, err
		}
	}
}

// Int80Ran reports whether a wait status of ProbeInt80 means the call ran.
func Int80Ran(ws syscall.WaitStatus) bool { return ws.Exited() && ws.ExitStatus() == int80Ran }

//go:nosplit
//go:norace
func forkInt80(fault bool) (uintptr, syscall.Errno) {
	runtimeBeforeFork()
	pid, e := int80Fork(fault)
	runtimeAfterFork()
	return pid, e
}
