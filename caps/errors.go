package caps

import "errors"

var (
	// ErrUnknown is matched by errors for capability names this package does not know.
	ErrUnknown = errors.New("unknown capability")
	// ErrInvalidSpec is matched by every error that Spec.Validate and Sets.Validate return.
	ErrInvalidSpec = errors.New("invalid capability spec")
)

// A SpecError reports the entry of a capability Spec (or Sets) that makes it invalid: an
// unknown name in a set, or a capability that the kernel would refuse in that set. It matches
// ErrInvalidSpec and, for an unknown name, ErrUnknown.
type SpecError struct {
	// Set is the set the entry belongs to: "bounding", "effective", "permitted",
	// "inheritable" or "ambient".
	Set string
	// Name is the offending entry, as written or as the kernel names it.
	Name string
	// Reason says what is wrong when Err does not, such as "not in permitted".
	Reason string
	// Err is the underlying error, such as one of Parse matching ErrUnknown, or nil.
	Err error
}

// Error implements the error interface.
func (e *SpecError) Error() string {
	msg := "capabilities: " + e.Set + ": "
	if e.Reason == "" && e.Err != nil {
		return msg + e.Err.Error() // Parse's error already names the entry
	}
	msg += e.Name
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error, if any.
func (e *SpecError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }
