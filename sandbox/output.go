package sandbox

import (
	"bytes"
	"context"
)

// Output runs cmd, as Run does, and returns what the target wrote on its standard
// output along with how it ended. cmd.Stdout must be nil. As with Run, a non-zero
// exit is not an error: look at ExitStatus. What was written is returned even
// when err is not nil.
func (t *Template) Output(ctx context.Context, cmd Command) ([]byte, *ExitStatus, error) {
	if cmd.Stdout != nil {
		return nil, nil, specErr("command", "Output collects Stdout, which is already set")
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	st, err := t.Run(ctx, cmd)
	return out.Bytes(), st, err
}

// CombinedOutput runs cmd, as Run does, and returns what the target wrote on its
// standard output and standard error, interleaved as it wrote them (one pipe
// serves both), along with how it ended. cmd.Stdout and cmd.Stderr must be nil.
func (t *Template) CombinedOutput(ctx context.Context, cmd Command) ([]byte, *ExitStatus, error) {
	if cmd.Stdout != nil || cmd.Stderr != nil {
		return nil, nil, specErr("command", "CombinedOutput collects Stdout and Stderr, which are already set")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	st, err := t.Run(ctx, cmd)
	return out.Bytes(), st, err
}
