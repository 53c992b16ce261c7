package spec

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. The typed errors of this package match one of them with
// errors.Is; package sandbox returns the same.
var (
	// ErrInvalidSpec reports a Spec, option or Command that cannot work; Build and
	// Start return it before anything is cloned.
	ErrInvalidSpec = errors.New("invalid sandbox spec")
	// ErrNotSupported reports a feature that this kernel or host lacks.
	ErrNotSupported = errors.New("not supported on this host")
)

// A SpecError names the field of a Spec that is wrong, or that this host or
// caller cannot have (NotSupported: resource limits for an unprivileged caller
// on cgroup v1, an init where executable memfds are forbidden), and why. It
// matches ErrInvalidSpec, or ErrNotSupported where NotSupported is set.
type SpecError struct {
	Field string
	Err   error
	// NotSupported says that the Spec asks for what this host or caller lacks,
	// rather than for something that cannot work anywhere.
	NotSupported bool
}

// Error implements the error interface.
func (e *SpecError) Error() string {
	msg := fieldMessage(e.Field, e.Err)
	if e.NotSupported {
		field, rest, _ := strings.Cut(msg, ": ")
		msg = field + ": not supported here: " + rest
	}
	return "sandbox spec: " + msg
}

// fieldMessage is "field: err", without saying field twice where err begins with
// it already (the domain packages' errors name their package: "cgroup: ...").
func fieldMessage(field string, err error) string {
	msg := fmt.Sprint(err)
	if strings.HasPrefix(msg, field+": ") {
		return msg
	}
	return field + ": " + msg
}

// Unwrap returns the cause.
func (e *SpecError) Unwrap() error { return e.Err }

// Is makes a SpecError match ErrInvalidSpec, or ErrNotSupported where
// NotSupported is set.
func (e *SpecError) Is(target error) bool {
	if e.NotSupported {
		return target == ErrNotSupported
	}
	return target == ErrInvalidSpec
}

func specErr(field string, format string, args ...any) error {
	return &SpecError{Field: field, Err: fmt.Errorf(format, args...)}
}
