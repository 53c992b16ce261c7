package landlock

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. The typed errors of this package match one of them with errors.Is.
var (
	// ErrInvalid is matched by every error about a malformed Spec, rule or option.
	ErrInvalid = errors.New("landlock: invalid spec")
	// ErrNotSupported is matched when the running kernel has no Landlock (not built
	// in, or not enabled with lsm=).
	ErrNotSupported = errors.New("landlock: not supported")
)

// A RuleError reports a bad rule: Index is its position in Spec.Rules (or in the
// option string), Rule its text, Err what is wrong (an *AccessError, or an error
// matching ErrInvalid about the path).
type RuleError struct {
	Index int
	Rule  string
	Err   error
}

// Error implements the error interface.
func (e *RuleError) Error() string {
	return fmt.Sprintf("landlock: rule %d %q: %v", e.Index, e.Rule, e.Err)
}

// Unwrap returns the cause, which matches ErrInvalid.
func (e *RuleError) Unwrap() error { return e.Err }

// An AccessError reports an access string that is not one of the forms Access
// accepts.
type AccessError struct {
	Access string
	Reason string
}

// Error implements the error interface.
func (e *AccessError) Error() string {
	return fmt.Sprintf("invalid access %q: %s (want ro, rw, x or a combination such as rx, rwx)", e.Access, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *AccessError) Unwrap() error { return ErrInvalid }

// An UnsupportedError reports that the kernel lacks Landlock: Errno is what
// landlock_create_ruleset returned (ENOSYS: not built in; EOPNOTSUPP: disabled at
// boot).
type UnsupportedError struct {
	Errno syscall.Errno
}

// Error implements the error interface.
func (e *UnsupportedError) Error() string {
	why := "not available"
	switch e.Errno {
	case syscall.ENOSYS:
		why = "not built into this kernel"
	case syscall.EOPNOTSUPP:
		why = "disabled on this kernel (see lsm= on the kernel command line)"
	}
	return fmt.Sprintf("landlock: %s: %v", why, e.Errno)
}

// Unwrap returns ErrNotSupported and the errno, so that both match.
func (e *UnsupportedError) Unwrap() []error { return []error{ErrNotSupported, e.Errno} }
