package overlay

import (
	"errors"
	"fmt"
)

// Sentinel errors; the typed errors of this package match them with errors.Is.
var (
	// ErrInvalid reports a Spec that cannot work: a missing or relative layer, an
	// unusable path.
	ErrInvalid = errors.New("overlay: invalid spec")
	// ErrNotSupported reports a driver or feature that this host cannot provide.
	ErrNotSupported = errors.New("overlay: not supported")
)

// A LayerError reports a layer directory (lower, upper or work) that the spec cannot
// use. It matches ErrInvalid.
type LayerError struct {
	// Role is "lower", "upper", "work" or "staging".
	Role string
	Path string
	Err  error
}

// Error implements the error interface.
func (e *LayerError) Error() string {
	return fmt.Sprintf("overlay: %s layer %q: %v", e.Role, e.Path, e.Err)
}

// Unwrap returns the underlying cause.
func (e *LayerError) Unwrap() error { return e.Err }

// Is reports ErrInvalid, so that errors.Is(err, ErrInvalid) holds for every LayerError.
func (e *LayerError) Is(target error) bool { return target == ErrInvalid }

// An UnsupportedError reports a driver that this host cannot provide, with the reason.
// It matches ErrNotSupported.
type UnsupportedError struct {
	Driver Driver
	Reason string
	Err    error
}

// Error implements the error interface.
func (e *UnsupportedError) Error() string {
	s := fmt.Sprintf("overlay: driver %q not supported: %s", e.Driver, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause, if any.
func (e *UnsupportedError) Unwrap() error { return e.Err }

// Is reports ErrNotSupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }
