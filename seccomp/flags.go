package seccomp

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrNotSupported is matched by a profile that this kernel cannot load (a
// filter flag it does not know).
var ErrNotSupported = errors.New("seccomp feature not supported by this kernel")

// The filter flags a Profile may ask for (Profile.Flags), as the OCI runtime
// spec names them.
const (
	// FlagLog logs every action of the filter but SECCOMP_RET_ALLOW.
	FlagLog = "SECCOMP_FILTER_FLAG_LOG"
	// FlagSpecAllow leaves the speculative store bypass mitigation off, which
	// loading a filter otherwise turns on.
	FlagSpecAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
)

// filterFlags are the values of the flags a Profile may ask for. TSYNC means
// nothing for the single-threaded child, and the new listener is the
// compiler's to set (ActNotify); the others are refused.
var filterFlags = map[string]uintptr{
	FlagLog:       unix.SECCOMP_FILTER_FLAG_LOG,
	FlagSpecAllow: unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
}

// validateFlags checks that every flag of p is one a Profile may ask for.
func (p Profile) validateFlags() *ProfileError {
	for _, f := range p.Flags {
		if _, ok := filterFlags[f]; !ok {
			return &ProfileError{Index: -1, Field: "flags", Value: f, Err: fmt.Errorf("not %s or %s", FlagLog, FlagSpecAllow)}
		}
	}
	return nil
}

// loadFlags returns the seccomp(2) flags of p's Flags, each probed on this
// kernel: an error matching ErrNotSupported names the first it lacks.
func (p Profile) loadFlags() (uintptr, error) {
	var flags uintptr
	for _, f := range p.Flags {
		v := filterFlags[f]
		if err := ProbeFlag(v); err != nil {
			return 0, fmt.Errorf("%w: filter flag %s: %w", ErrNotSupported, f, err)
		}
		flags |= v
	}
	return flags, nil
}

// ProbeFlag reports whether this kernel knows the seccomp filter flag: it
// asks to load a filter from a NULL program with it, which the kernel refuses
// with EINVAL for an unknown flag before anything else, and otherwise with
// EFAULT (or EACCES without no_new_privs): nothing is loaded either way.
func ProbeFlag(flag uintptr) error {
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flag, 0)
	switch e {
	case syscall.EINVAL, syscall.ENOSYS:
		return e
	}
	return nil
}
