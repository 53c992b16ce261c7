package image

import (
	"errors"
	"fmt"
)

// Errors that the package's errors match with errors.Is.
var (
	// ErrInvalid reports a malformed image reference or store path.
	ErrInvalid = errors.New("image: invalid argument")
	// ErrNotFound reports an image, tag or digest that a source does not hold.
	ErrNotFound = errors.New("image: not found")
	// ErrCorrupt reports content that does not match its digest, a truncated or
	// malformed layer, or a layer entry that the unpacker refuses.
	ErrCorrupt = errors.New("image: corrupt or hostile content")
)

// A LayerError reports a layer that could not be unpacked. It matches
// ErrCorrupt when the layer's content is at fault, and wraps the cause.
type LayerError struct {
	// DiffID is the layer's diff ID ("sha256:...").
	DiffID string
	// Entry is the path inside the layer's tar stream at fault, if any.
	Entry string
	// Err is the cause.
	Err error
	// corrupt says the layer's content, not the host, is at fault.
	corrupt bool
}

// Error implements the error interface.
func (e *LayerError) Error() string {
	if e.Entry != "" {
		return fmt.Sprintf("image: layer %s: entry %q: %v", e.DiffID, e.Entry, e.Err)
	}
	return fmt.Sprintf("image: layer %s: %v", e.DiffID, e.Err)
}

// Unwrap returns the cause.
func (e *LayerError) Unwrap() error { return e.Err }

// Is matches ErrCorrupt for a layer whose content is at fault.
func (e *LayerError) Is(target error) bool { return e.corrupt && target == ErrCorrupt }

// corrupt returns a LayerError that matches ErrCorrupt.
func corrupt(diffID, entry string, err error) *LayerError {
	return &LayerError{DiffID: diffID, Entry: entry, Err: err, corrupt: true}
}
