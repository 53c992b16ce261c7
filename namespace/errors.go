package namespace

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalid is matched (errors.Is) by every error that reports bad input in a
	// namespace Spec or an ID map.
	ErrInvalid = errors.New("invalid namespace spec")
	// ErrNotSupported is matched when the kernel, the host or the caller cannot
	// provide what is asked: a kind the kernel lacks (time namespaces before Linux
	// 5.6), newuidmap or newgidmap (Debian package uidmap) missing from PATH, no
	// subordinate IDs in /etc/subuid or /etc/subgid (see NoRangeError), maps only
	// root may write.
	ErrNotSupported = errors.New("not supported on this host")
)

// idMapError reports a UID or GID map entry that cannot be used: which is "uid" or
// "gid", or "" for a map of either kind (ParseIDMap); index is the position of m in
// its list, or -1 when the error concerns the list as a whole. It matches ErrInvalid.
func idMapError(which string, index int, m IDMap, reason string) error {
	if which == "" {
		which = "ID"
	}
	if index < 0 {
		return fmt.Errorf("%w: %s map: %s", ErrInvalid, which, reason)
	}
	return fmt.Errorf("%w: %s map entry %d (%s): %s", ErrInvalid, which, index, m, reason)
}

// nsError reports a namespace kind that cannot be obtained as the Spec asks: an
// unknown kind, a Join path (if any) that is missing or of another kind, or a
// combination the kernel refuses. It matches err and ErrInvalid, except when err
// matches ErrNotSupported (the kernel lacks the kind).
func nsError(k Kind, path string, err error) error {
	what := "namespace " + string(k)
	if path != "" {
		what += " (" + path + ")"
	}
	if errors.Is(err, ErrNotSupported) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
}

// helperError reports a failure of newuidmap or newgidmap run with args: the helper
// missing from PATH (see missingHelper) or exiting with err, after printing stderr.
func helperError(helper string, args []string, stderr string, err error) error {
	cmd := strings.TrimSpace(helper + " " + strings.Join(args, " "))
	if stderr != "" {
		return fmt.Errorf("%s: %w: %s", cmd, err, stderr)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// missingHelper is the cause of a helperError for a helper that LookPath did not find;
// it matches ErrNotSupported.
func missingHelper(err error) error {
	return fmt.Errorf("%w: setuid ID map helper not found: %w (install the uidmap package)", ErrNotSupported, err)
}
