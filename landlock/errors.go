package landlock

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. Every error of this package matches one of them with errors.Is.
var (
	// ErrInvalid is matched by every error about a malformed Spec, rule or option.
	ErrInvalid = errors.New("landlock: invalid spec")
	// ErrNotSupported is matched when the running kernel has no Landlock (not built
	// in, or not enabled with lsm=).
	ErrNotSupported = errors.New("landlock: not supported")
)

// A RuleError reports a bad rule: Index is its position in Spec.Rules (or in the
// option string), Rule its text, Err what is wrong (about the access or the path),
// which matches ErrInvalid.
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

// accessError reports an access string that is not one of the forms ParseAccess
// accepts; it matches ErrInvalid.
func accessError(access, reason string) error {
	return fmt.Errorf("%w: access %q: %s (want ro, rw, x or a combination such as rx, rwx)", ErrInvalid, access, reason)
}

// unsupported reports that the kernel lacks Landlock: errno is what
// landlock_create_ruleset returned (ENOSYS: not built in; EOPNOTSUPP: disabled at
// boot). It matches ErrNotSupported and errno.
func unsupported(errno syscall.Errno) error {
	why := "not available"
	switch errno {
	case syscall.ENOSYS:
		why = "not built into this kernel"
	case syscall.EOPNOTSUPP:
		why = "disabled on this kernel (see lsm= on the kernel command line)"
	}
	return fmt.Errorf("%w: %s: %w", ErrNotSupported, why, errno)
}
