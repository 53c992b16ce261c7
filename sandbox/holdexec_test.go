package sandbox_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestReleaseExecFailure: Release from the FIFO alone, as an OCI runtime's
// start does, reports a target that could not be executed with the errno of
// its execve, where nothing reads the sandbox's error pipe; a target that was
// executed releases without error. As root and as uid 65534.
func TestReleaseExecFailure(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			args  []string
			errno syscall.Errno
		}{
			{[]string{"/no/such/program"}, syscall.ENOENT},
			{[]string{"/etc"}, syscall.EACCES},
			{[]string{"/bin/true"}, 0},
		} {
			_, fifo := heldDir(t)
			tpl, err := sandbox.NewBuilder(sandbox.WithHold()).Build()
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			p, err := tpl.Start(context.Background(), sandbox.Command{Args: c.args, HoldFIFO: fifo})
			tpl.Close()
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = sandbox.Release(ctx, fifo)
			cancel()
			var ce *sandbox.ChildError
			switch {
			case c.errno == 0 && err != nil:
				t.Errorf("%s: Release: %v", c.args[0], err)
			case c.errno != 0 && (!errors.As(err, &ce) || ce.Stage != "exec" || ce.Errno != c.errno):
				t.Errorf("%s: Release: %v; want a *ChildError of stage exec with %v", c.args[0], err, c.errno)
			}
			want := 125
			if c.errno == 0 {
				want = 0
			}
			if st, err := p.Wait(); err != nil || st.Code != want {
				t.Errorf("%s: Wait: %v, %v; want exit %d", c.args[0], st, err, want)
			}
		}
	})
}
