package sandbox

import (
	"fmt"
	"strings"

	"github.com/paddock-sandbox/paddock/internal/filtercheck"
)

// checkFilterCalls refuses a seccomp filter that stops a system call the child
// makes between loading it and executing the target (filtercheck.ChildCalls):
// such a filter would fail every start, or leave it hanging until its context
// ends.
func (t *Template) checkFilterCalls() error {
	stopped := filtercheck.ChildCalls(t.filter, t.prog)
	if len(stopped) == 0 {
		return nil
	}
	return &SpecError{Field: "seccomp", Err: fmt.Errorf(
		"the filter stops system calls that the sandbox makes between loading it and executing the target: %s; they must be allowed",
		strings.Join(stopped, ", "))}
}
