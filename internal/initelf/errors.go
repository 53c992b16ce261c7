package initelf

import (
	"errors"
	"fmt"
)

// ErrNotSupported reports that this host cannot run the init: another
// architecture, or a kernel setting that forbids executing a memfd.
var ErrNotSupported = errors.New("initelf: not supported")

// An UnsupportedError says why the init cannot run here. It matches
// ErrNotSupported.
type UnsupportedError struct {
	// Reason is what stands in the way, in words.
	Reason string
	Err    error
}

// Error implements the error interface.
func (e *UnsupportedError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("initelf: %s: %v", e.Reason, e.Err)
	}
	return "initelf: " + e.Reason
}

// Unwrap returns the cause, usually a syscall.Errno.
func (e *UnsupportedError) Unwrap() error { return e.Err }

// Is makes every UnsupportedError match ErrNotSupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }
