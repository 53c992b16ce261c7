//go:build !amd64

package child

import "syscall"

// ProbeInt80 reports that int 0x80 is the i386 gate of x86_64 kernels only.
func ProbeInt80() (syscall.WaitStatus, error) { return 0, syscall.ENOSYS }

// Int80Ran reports false: no other architecture has the gate.
func Int80Ran(syscall.WaitStatus) bool { return false }
