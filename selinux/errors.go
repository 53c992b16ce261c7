package selinux

import (
	"errors"
	"fmt"
)

// Sentinel errors. The typed errors of this package match one of them with errors.Is.
var (
	// ErrInvalid is matched by every error about malformed input: a label, a level, an
	// option or a category pair.
	ErrInvalid = errors.New("selinux: invalid input")
	// ErrNotSupported is matched when a Spec demands a label on a host where SELinux is
	// disabled.
	ErrNotSupported = errors.New("selinux: not supported")
	// ErrInUse is matched when a category pair is reserved twice in one Allocator.
	ErrInUse = errors.New("selinux: MCS categories in use")
	// ErrExhausted is matched when an Allocator has no free category pair left.
	ErrExhausted = errors.New("selinux: MCS categories exhausted")
)

// An InvalidError reports malformed input: What names the kind of input ("label",
// "level", "option", "type", ...), Value the offending text and Reason what is wrong.
type InvalidError struct {
	What   string
	Value  string
	Reason string
}

// Error implements the error interface.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("selinux: invalid %s %q: %s", e.What, e.Value, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(what, value, format string, args ...any) error {
	return &InvalidError{What: what, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// An UnsupportedError reports that a Spec demands a label (Field, with its Value) on a
// host where SELinux is disabled.
type UnsupportedError struct {
	Field string
	Value string
}

// Error implements the error interface.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("selinux: label %s %q requested, but SELinux is disabled on this host", e.Field, e.Value)
}

// Unwrap returns ErrNotSupported.
func (e *UnsupportedError) Unwrap() error { return ErrNotSupported }

// A CategoriesError reports an Allocator failure: Err is ErrInUse, ErrExhausted or
// ErrInvalid; Categories is the pair concerned (zero for ErrExhausted), N the number of
// categories the Allocator manages.
type CategoriesError struct {
	Categories Categories
	N          int
	Err        error
}

// Error implements the error interface.
func (e *CategoriesError) Error() string {
	if errors.Is(e.Err, ErrExhausted) {
		return fmt.Sprintf("selinux: all category pairs of c0..c%d are in use: %v", e.N-1, e.Err)
	}
	return fmt.Sprintf("selinux: categories %s (of c0..c%d): %v", e.Categories, e.N-1, e.Err)
}

// Unwrap returns the sentinel that e matches.
func (e *CategoriesError) Unwrap() error { return e.Err }
