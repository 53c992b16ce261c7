package overlay

import (
	"errors"
	"fmt"
)

// Sentinel errors. The errors of this package match them with errors.Is: a
// *LayerError where a path is at fault, a wrapped sentinel otherwise.
var (
	// ErrInvalid reports a Spec that cannot work: a missing or relative layer, an
	// unusable path.
	ErrInvalid = errors.New("overlay: invalid spec")
	// ErrNotSupported reports a driver or feature that this host cannot provide;
	// the error names the driver and the reason.
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

// unsupported reports the driver d that this host cannot provide, for reason,
// with the underlying cause err, if any. It matches ErrNotSupported and err.
func unsupported(d Driver, reason string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: driver %q: %s", ErrNotSupported, d, reason)
	}
	return fmt.Errorf("%w: driver %q: %s: %w", ErrNotSupported, d, reason, err)
}
