package mounts

import (
	"errors"
	"fmt"
)

// Sentinel errors. The errors of this package match them with errors.Is: a
// *MountError where a mount is at fault, a wrapped sentinel otherwise.
var (
	// ErrInvalid reports a Spec that cannot work: a relative target, a missing bind
	// source, an unknown propagation, a bad tmpfs size, a bad masked, read-only or
	// hidden path.
	ErrInvalid = errors.New("mounts: invalid spec")
	// ErrNotSupported reports a mount this host cannot provide, such as an
	// idmapped one (see IDMapSupported).
	ErrNotSupported = errors.New("mounts: not supported")
)

// A MountError reports a mount that is invalid, or that failed while a sandbox was
// being built or started. A spec problem matches ErrInvalid with errors.Is; Err (such
// as a syscall.Errno) is matched too.
type MountError struct {
	Source, Target, FSType, Data string
	Flags                        uintptr
	Err                          error
	// Invalid marks a problem of the spec rather than of the host.
	Invalid bool
}

// Error implements the error interface.
func (e *MountError) Error() string {
	return fmt.Sprintf("mount %s on %s (type %s, flags %#x, data %q): %v", e.Source, e.Target, e.FSType, e.Flags, e.Data, e.Err)
}

// Unwrap returns the underlying cause.
func (e *MountError) Unwrap() error { return e.Err }

// Is reports ErrInvalid for spec problems.
func (e *MountError) Is(target error) bool { return e.Invalid && target == ErrInvalid }

// tmpfsError reports the tmpfs t that cannot work, for err, as the MountError of
// its mount.
func tmpfsError(t Tmpfs, err error) error {
	return &MountError{Source: "tmpfs", Target: t.Target, FSType: "tmpfs", Err: err, Invalid: true}
}

// pathError reports the invalid path p of the list (masked, readonly, hidden).
func pathError(list, p string, err error) error {
	return fmt.Errorf("%w: %s path %q: %w", ErrInvalid, list, p, err)
}
