package child

import (
	"fmt"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A MissingError names a kernel feature that the child needs and this kernel lacks.
type MissingError struct {
	Feature  string // "clone3", ...
	MinLinux string // the first Linux release that has it
	Err      error
}

// Error implements the error interface.
func (e *MissingError) Error() string {
	return fmt.Sprintf("the kernel lacks %s (Linux %s): %v", e.Feature, e.MinLinux, e.Err)
}

// Unwrap returns the errno of the probe.
func (e *MissingError) Unwrap() error { return e.Err }

// Probe checks, once per process, the system calls that every start makes: clone3
// (Linux 5.3; Start also passes CLONE_CLEAR_SIGHAND, 5.5) and close_range with
// CLOSE_RANGE_CLOEXEC (5.11), which the child's descriptor sweep uses. It returns a
// *MissingError for the first one missing.
var Probe = sync.OnceValue(func() error {
	// clone3 with a size below its smallest struct fails with EINVAL where it exists.
	if _, _, e := syscall.RawSyscall(unix.SYS_CLONE3, 0, 0, 0); e == syscall.ENOSYS {
		return &MissingError{Feature: "clone3", MinLinux: "5.3", Err: e}
	}
	// An empty range above every descriptor: nothing changes where it exists.
	top := uintptr(^uint32(0) >> 1)
	if _, _, e := syscall.RawSyscall(unix.SYS_CLOSE_RANGE, top, top, unix.CLOSE_RANGE_CLOEXEC); e != 0 {
		return &MissingError{Feature: "close_range with CLOSE_RANGE_CLOEXEC", MinLinux: "5.11", Err: e}
	}
	return nil
})
