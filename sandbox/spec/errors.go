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

// A SpecError names the field of a Spec that is wrong and why.
type SpecError struct {
	Field string
	Err   error
}

// Error implements the error interface.
func (e *SpecError) Error() string { return "sandbox spec: " + fieldMessage(e.Field, e.Err) }

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

// Is makes every SpecError match ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

func specErr(field string, format string, args ...any) error {
	return &SpecError{Field: field, Err: fmt.Errorf(format, args...)}
}

// An UnsupportedError reports a part of a Spec that this host or caller cannot
// have, such as resource limits for an unprivileged caller on cgroup v1.
type UnsupportedError struct {
	Field string
	Err   error
}

// Error implements the error interface.
func (e *UnsupportedError) Error() string {
	msg := fieldMessage(e.Field, e.Err)
	field, rest, _ := strings.Cut(msg, ": ")
	return "sandbox spec: " + field + ": not supported here: " + rest
}

// Unwrap returns the cause.
func (e *UnsupportedError) Unwrap() error { return e.Err }

// Is makes every UnsupportedError match ErrNotSupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }
