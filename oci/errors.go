package oci

import (
	"fmt"

	"github.com/paddock-sandbox/paddock/sandbox"
)

// A FieldError reports a field of an OCI configuration that Paddock cannot honour
// or that is wrong. Field is its path in the configuration's JSON, as
// "process.capabilities.ambient[0]" or "mounts[3].options". Err matches
// sandbox.ErrNotSupported for what Paddock or this host cannot provide, and
// sandbox.ErrInvalidSpec for a configuration that cannot work anywhere.
type FieldError struct {
	Field string
	Err   error
}

// Error implements the error interface.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return "oci config: " + e.Err.Error()
	}
	return "oci config: " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the cause, which wraps sandbox.ErrNotSupported or
// sandbox.ErrInvalidSpec.
func (e *FieldError) Unwrap() error { return e.Err }

// unsupported reports field as something Paddock cannot honour, for the reason
// that format and args spell.
func unsupported(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf("%w: "+format, append([]any{sandbox.ErrNotSupported}, args...)...)}
}

// invalid reports field as wrong in the configuration.
func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf("%w: "+format, append([]any{sandbox.ErrInvalidSpec}, args...)...)}
}

// invalidErr reports field as wrong in the configuration, because of err.
func invalidErr(field string, err error) error {
	return &FieldError{Field: field, Err: fmt.Errorf("%w: %w", sandbox.ErrInvalidSpec, err)}
}
