package namespace

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalid is matched (errors.Is) by every error that reports bad input in a
	// namespace Spec: *IDMapError and *NamespaceError.
	ErrInvalid = errors.New("invalid namespace spec")
	// ErrNotSupported reports a namespace feature that the running kernel lacks, such
	// as time namespaces before Linux 5.6.
	ErrNotSupported = errors.New("not supported by this kernel")
	// ErrNoHelper reports that newuidmap or newgidmap (Debian package uidmap) is not
	// on PATH while an unprivileged caller asked for ID maps that need them.
	ErrNoHelper = errors.New("setuid ID map helper not found")
	// ErrNoSubIDs reports that /etc/subuid or /etc/subgid grants no subordinate IDs
	// to a user.
	ErrNoSubIDs = errors.New("no subordinate IDs configured")
)

// An IDMapError reports a UID or GID map entry that cannot be used: its Reason says
// why. It matches ErrInvalid.
type IDMapError struct {
	// Which is "uid" or "gid", or "" for a map of either kind (ParseIDMap).
	Which string
	// Index is the position of Map in its list, or -1 when the error concerns the
	// list as a whole.
	Index int
	// Map is the offending entry.
	Map IDMap
	// Reason says what is wrong, in words.
	Reason string
}

// Error implements the error interface.
func (e *IDMapError) Error() string {
	which := e.Which
	if which == "" {
		which = "ID"
	}
	if e.Index < 0 {
		return fmt.Sprintf("namespace: %s map: %s", which, e.Reason)
	}
	return fmt.Sprintf("namespace: %s map entry %d (%s): %s", which, e.Index, e.Map, e.Reason)
}

// Is reports whether target is ErrInvalid.
func (e *IDMapError) Is(target error) bool { return target == ErrInvalid }

// A NamespaceError reports a namespace kind that cannot be obtained as the Spec asks:
// an unknown kind, a Join path that is missing or of another kind, or a combination
// the kernel refuses. It matches ErrInvalid, except when Err is ErrNotSupported (the
// kernel lacks the kind), which it matches instead.
type NamespaceError struct {
	Kind Kind
	// Path is the namespace file of a Join, if any.
	Path string
	Err  error
}

// Error implements the error interface.
func (e *NamespaceError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("namespace %s (%s): %v", e.Kind, e.Path, e.Err)
	}
	return fmt.Sprintf("namespace %s: %v", e.Kind, e.Err)
}

// Unwrap returns the underlying error.
func (e *NamespaceError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalid and the error is not a kernel lack.
func (e *NamespaceError) Is(target error) bool {
	return target == ErrInvalid && !errors.Is(e.Err, ErrNotSupported)
}

// A HelperError reports a failure of newuidmap or newgidmap: the helper missing from
// PATH (it then matches ErrNoHelper) or exiting with an error, with what it printed.
type HelperError struct {
	// Helper is "newuidmap" or "newgidmap".
	Helper string
	// Args are the arguments it was given (pid and map triples).
	Args []string
	// Stderr is what the helper printed, trimmed.
	Stderr string
	Err    error
}

// Error implements the error interface.
func (e *HelperError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %v", e.Helper, strings.Join(e.Args, " "), e.Err)
	if e.Stderr != "" {
		fmt.Fprintf(&b, ": %s", e.Stderr)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *HelperError) Unwrap() error { return e.Err }
