package sandbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/paddock-sandbox/paddock/sandbox/spec"
)

// Sentinel errors. Typed errors returned by this package match one of them with
// errors.Is.
var (
	// ErrInvalidSpec reports a Spec, option or Command that cannot work; Build and
	// Start return it before anything is cloned.
	ErrInvalidSpec = spec.ErrInvalidSpec
	// ErrNotSupported reports a feature that this kernel or host lacks.
	ErrNotSupported = spec.ErrNotSupported
	// ErrSetup reports a step that failed inside the child while the sandbox was being
	// set up, before the target ran.
	ErrSetup = errors.New("sandbox setup failed")
	// ErrFinished reports an operation on a process that has been waited for.
	ErrFinished = errors.New("sandbox process already finished")
	// ErrClosed reports a Start on a Template that was closed. It matches
	// os.ErrClosed too.
	ErrClosed error = closedError{}
)

type closedError struct{}

// Error implements the error interface.
func (closedError) Error() string { return "sandbox: the template is closed" }

// Is makes ErrClosed match os.ErrClosed.
func (closedError) Is(target error) bool { return target == os.ErrClosed }

// A SpecError names the field of a Spec that is wrong, or that this host or
// caller cannot have, and why (spec.SpecError).
type SpecError = spec.SpecError

// specErr is a *SpecError naming field, with a formatted cause.
func specErr(field string, format string, args ...any) error {
	return &SpecError{Field: field, Err: fmt.Errorf(format, args...)}
}

// A ChildError reports the step that failed inside the child: the stage it belongs
// to (namespaces, mount, capabilities, seccomp, exec, ...), what it did, the index of
// its op in the template's program, and the errno the kernel returned.
type ChildError struct {
	Stage string
	Step  string
	Op    int
	Errno syscall.Errno
	// Path is set when the step failed while resolving its path inside the
	// sandbox's root: the path, as the sandbox sees it. A root filesystem that has
	// a symbolic link leading nowhere, a file where a directory belongs or the
	// reverse along it fails there (ELOOP, ENOTDIR, EISDIR), never outside the root.
	Path string
	// Detail is what the parent found out about the failure, where it could tell
	// more than the errno ("execve is denied by the seccomp filter", the target of
	// a symbolic link that leads nowhere).
	Detail string
	cause  error // the parent-side error behind Errno, if any
}

// Error implements the error interface.
func (e *ChildError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("sandbox setup: %s: %s: %v", e.Stage, e.Step, e.cause)
	}
	msg := fmt.Sprintf("sandbox setup: %s: %s: %v", e.Stage, e.Step, e.Errno)
	if e.Path != "" {
		msg = fmt.Sprintf("sandbox setup: %s: %s: resolving %s inside the root: %v", e.Stage, e.Step, e.Path, e.Errno)
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap returns the errno, so errors.Is(err, syscall.EPERM) works, and the
// parent-side error behind it when there is one.
func (e *ChildError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Errno, e.cause}
	}
	return []error{e.Errno}
}

// Is makes every ChildError match ErrSetup.
func (e *ChildError) Is(target error) bool { return target == ErrSetup }

// NotFound reports whether the target executable does not exist (exit code 127 in
// the shell convention).
func (e *ChildError) NotFound() bool {
	return e.Stage == "exec" && (e.Errno == syscall.ENOENT || e.Errno == syscall.ENOTDIR)
}

// NotExecutable reports whether the target exists but cannot be executed (126).
func (e *ChildError) NotExecutable() bool {
	return e.Stage == "exec" && !e.NotFound()
}
