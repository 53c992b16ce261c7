package cgroup

import (
	"errors"
	"fmt"
)

// Sentinel errors matched with errors.Is.
var (
	// ErrInvalid is matched by every error about a bad Spec or Resources.
	ErrInvalid = errors.New("invalid cgroup spec")
	// ErrNotSupported is matched when the host or the caller cannot provide what a
	// Spec asks for (no such controller, v1 limits for an unprivileged caller, ...).
	ErrNotSupported = errors.New("cgroup feature not supported")
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

// unsupported reports a feature ("memory limit", "controller cpuset", ...) that this
// host or this caller cannot have, and why. It matches ErrNotSupported.
func unsupported(feature, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrNotSupported, feature, reason)
}

// fileError reports a failed operation op ("mkdir", "write", "read", "open", "rmdir",
// "kill", "load device program", ...) on path; data is what was written, for
// "write". It matches err, usually a syscall.Errno: a refusal (EPERM, EACCES) matches
// os.ErrPermission.
func fileError(op, path, data string, err error) error {
	what := op
	if op == "write" {
		what = fmt.Sprintf("write %q to", data)
	}
	if path != "" {
		what += " " + path
	}
	return fmt.Errorf("cgroup: %s: %w", what, err)
}
