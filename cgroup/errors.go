package cgroup

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Sentinel errors matched with errors.Is.
var (
	// ErrInvalid is matched by every error about a bad Spec or Resources.
	ErrInvalid = errors.New("invalid cgroup spec")
	// ErrNotSupported is matched when the host or the caller cannot provide what a
	// Spec asks for (no such controller, v1 limits for an unprivileged caller, ...).
	ErrNotSupported = errors.New("cgroup feature not supported")
	// ErrPermission is matched by a cgroup file operation refused with EPERM or EACCES.
	ErrPermission = errors.New("cgroup permission denied")
)

// A ResourceError reports an invalid field of a Resources or Spec value.
type ResourceError struct {
	// Field names the offending field, e.g. "memory" or "devices[2]".
	Field string
	// Value is the offending value.
	Value any
	// Reason says what is wrong with it.
	Reason string
}

// Error implements the error interface.
func (e *ResourceError) Error() string {
	return fmt.Sprintf("cgroup: invalid %s %v: %s", e.Field, e.Value, e.Reason)
}

// Is makes a ResourceError match ErrInvalid.
func (e *ResourceError) Is(target error) bool { return target == ErrInvalid }

// An UnsupportedError reports a feature that this host or this caller cannot have.
type UnsupportedError struct {
	// Feature names what was asked for, e.g. "memory limit" or "controller cpuset".
	Feature string
	// Reason says why it is not available.
	Reason string
}

// Error implements the error interface.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("cgroup: %s not supported: %s", e.Feature, e.Reason)
}

// Is makes an UnsupportedError match ErrNotSupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }

// A FileError reports a failed operation on a cgroup file or directory.
type FileError struct {
	// Op is the operation: "mkdir", "write", "read", "open", "rmdir", "kill".
	Op string
	// Path is the file or directory.
	Path string
	// Data is what was written, for Op "write".
	Data string
	// Err is the underlying error, usually a syscall.Errno.
	Err error
}

// Error implements the error interface.
func (e *FileError) Error() string {
	if e.Op == "write" {
		return fmt.Sprintf("cgroup: write %q to %s: %v", e.Data, e.Path, e.Err)
	}
	return fmt.Sprintf("cgroup: %s %s: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// Is makes a FileError caused by EPERM or EACCES match ErrPermission.
func (e *FileError) Is(target error) bool {
	return target == ErrPermission && (errors.Is(e.Err, unix.EPERM) || errors.Is(e.Err, unix.EACCES))
}
