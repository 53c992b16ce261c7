package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paddock-sandbox/paddock/sandbox"
)

// execError words a release that found the container's program could not be
// executed as runc does, naming the program and the errno:
// exec: "/bin/nope": no such file or directory. The container's process has
// then exited (125), and the container is stopped, for delete. Other errors
// pass as they are.
func execError(c *container, err error) error {
	var ce *sandbox.ChildError
	if !errors.As(err, &ce) || ce.Stage != "exec" {
		return err
	}
	if ce.NotFound() && c.Program != "" && !strings.Contains(c.Program, "/") {
		return fmt.Errorf("exec: %q: executable file not found in $PATH", c.Program)
	}
	return fmt.Errorf("exec: %q: %v", c.Program, ce.Errno)
}
