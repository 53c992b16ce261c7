package selinux

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error of this package matches one of them with errors.Is.
var (
	// ErrInvalid is matched by every error about malformed input: a label, a level, an
	// option or a category pair.
	ErrInvalid = errors.New("selinux: invalid input")
	// ErrNotSupported is matched when a Spec demands a label on a host where SELinux is
	// disabled.
	ErrNotSupported = errors.New("selinux: not supported")
	// ErrInUse is matched when an Allocator cannot hand out a category pair: the one
	// asked for is reserved already, or, for Allocate, every pair is.
	ErrInUse = errors.New("selinux: MCS categories in use")
)

// invalid reports malformed input: what names its kind ("label", "level", "option",
// "type", ...), value the offending text. It matches ErrInvalid.
func invalid(what, value, format string, args ...any) error {
	return fmt.Errorf("%w: %s %q: %s", ErrInvalid, what, value, fmt.Sprintf(format, args...))
}

// unsupported reports that a Spec demands a label (field, with its value) on a host
// where SELinux is disabled. It matches ErrNotSupported.
func unsupported(field, value string) error {
	return fmt.Errorf("%w: label %s %q requested, but SELinux is disabled on this host", ErrNotSupported, field, value)
}

// A CategoriesError reports an Allocator failure: Err is ErrInUse or ErrInvalid;
// Categories is the pair concerned (zero when Allocate found every pair in use), N the
// number of categories the Allocator manages.
type CategoriesError struct {
	Categories Categories
	N          int
	Err        error
}

// Error implements the error interface.
func (e *CategoriesError) Error() string {
	if e.Err == ErrInUse && e.Categories == (Categories{}) {
		return fmt.Sprintf("selinux: all category pairs of c0..c%d are in use", e.N-1)
	}
	return fmt.Sprintf("selinux: categories %s (of c0..c%d): %v", e.Categories, e.N-1, e.Err)
}

// Unwrap returns the sentinel that e matches.
func (e *CategoriesError) Unwrap() error { return e.Err }
