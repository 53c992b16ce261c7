package mounts

import (
	"errors"
	"fmt"
)

// Sentinel errors; the typed errors of this package match them with errors.Is.
var (
	// ErrInvalid reports a Spec that cannot work: a relative target, a missing bind
	// source, an unknown propagation, a bad tmpfs size.
	ErrInvalid = errors.New("mounts: invalid spec")
	// ErrNotSupported reports a mount this host cannot provide.
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

// A PathError reports an invalid path in a mask, read-only or tmpfs list. It matches
// ErrInvalid.
type PathError struct {
	// List names the field: "masked", "readonly", "tmpfs".
	List string
	Path string
	Err  error
}

// Error implements the error interface.
func (e *PathError) Error() string {
	return fmt.Sprintf("mounts: %s path %q: %v", e.List, e.Path, e.Err)
}

// Unwrap returns the underlying cause.
func (e *PathError) Unwrap() error { return e.Err }

// Is reports ErrInvalid.
func (e *PathError) Is(target error) bool { return target == ErrInvalid }

// A SizeError reports a tmpfs size that is malformed, or that the kernel would not
// read as written (see CheckTmpfsSize). It matches ErrInvalid.
type SizeError struct {
	Size   string
	Reason string
}

// Error implements the error interface.
func (e *SizeError) Error() string { return fmt.Sprintf("tmpfs size %q: %s", e.Size, e.Reason) }

// Is reports ErrInvalid.
func (e *SizeError) Is(target error) bool { return target == ErrInvalid }
