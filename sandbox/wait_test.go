package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestWaitContext: a sandbox that its context's end killed makes Wait and Run
// return the context's error, as os/exec's Cmd.Wait does; one that ended first
// does not.
func TestWaitContext(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder().Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		sleep := sandbox.Command{Args: []string{"/bin/sleep", "60"}}
		t.Run("deadline", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			st, err := tpl.Run(ctx, sleep)
			if !errors.Is(err, context.DeadlineExceeded) || st == nil || st.Signal != syscall.SIGKILL {
				t.Fatalf("Run: %v, %v; want the sandbox killed and context.DeadlineExceeded", st, err)
			}
		})
		t.Run("cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			p, err := tpl.Start(ctx, sleep)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			st, err := p.Wait()
			if !errors.Is(err, context.Canceled) || st == nil || st.Signal != syscall.SIGKILL {
				t.Fatalf("Wait: %v, %v; want the sandbox killed and context.Canceled", st, err)
			}
			if st2, err2 := p.Wait(); st2 != st || err2 != err {
				t.Errorf("a second Wait: %v, %v", st2, err2)
			}
		})
		t.Run("ended first", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			p, err := tpl.Start(ctx, sandbox.Command{Args: []string{"/bin/sh", "-c", "exit 3"}})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			cancel()
			st, err := p.Wait()
			if err != nil || st.Code != 3 {
				t.Fatalf("Wait: %v, %v; want exit 3 and no error", st, err)
			}
		})
	})
}

// TestWaitDelay: a target that leaves a process holding its standard output
// keeps Wait waiting for the copy of that output, unless WaitDelay bounds it. The
// sandbox shares the host's pid namespace and has no cgroup: nothing kills the
// one left when the target ends.
func TestWaitDelay(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder(sandbox.WithHostNamespaces(namespace.PID), sandbox.WithoutCgroup()).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		var out bytes.Buffer
		start := time.Now()
		st, err := tpl.Run(context.Background(), sandbox.Command{
			Args:      []string{"/bin/sh", "-c", "sleep 30 & echo $!"},
			Stdout:    &out,
			WaitDelay: 300 * time.Millisecond,
		})
		took := time.Since(start)
		if pid, perr := strconv.Atoi(strings.TrimSpace(out.String())); perr == nil {
			syscall.Kill(pid, syscall.SIGKILL)
			syscall.Wait4(pid, nil, 0, nil) // reaped here where this process is its subreaper
		} else {
			t.Errorf("output %q: %v", out.String(), perr)
		}
		if !errors.Is(err, sandbox.ErrWaitDelay) || st == nil || !st.Success() {
			t.Fatalf("Run: %v, %v; want exit 0 and ErrWaitDelay", st, err)
		}
		if took > 5*time.Second {
			t.Errorf("Run took %v with a WaitDelay of 300ms", took)
		}
	})
}

// funcWriter is a writer whose type == cannot compare (a func): Stdout and Stderr
// of this type are two writers.
type funcWriter func([]byte) (int, error)

func (f funcWriter) Write(b []byte) (int, error) { return f(b) }

// TestOutput checks Output and CombinedOutput, and the sharing of a writer
// between Stdout and Stderr.
func TestOutput(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder().Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		ctx := context.Background()
		script := sandbox.Command{Args: []string{"/bin/sh", "-c", "echo out; echo err >&2; echo out2; exit 4"}}
		out, st, err := tpl.Output(ctx, script)
		if err != nil || st.Code != 4 || string(out) != "out\nout2\n" {
			t.Errorf("Output: %q %v %v", out, st, err)
		}
		out, st, err = tpl.CombinedOutput(ctx, script)
		if err != nil || st.Code != 4 || string(out) != "out\nerr\nout2\n" {
			t.Errorf("CombinedOutput: %q %v %v", out, st, err)
		}
		withStdout := script
		withStdout.Stdout = &bytes.Buffer{}
		if _, _, err := tpl.Output(ctx, withStdout); !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Errorf("Output with Stdout set: %v", err)
		}
		if _, _, err := tpl.CombinedOutput(ctx, withStdout); !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Errorf("CombinedOutput with Stdout set: %v", err)
		}
		// Writers that == cannot compare are two writers, not a panic.
		var mu sync.Mutex
		var got bytes.Buffer
		w := funcWriter(func(b []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return got.Write(b)
		})
		both := script
		both.Stdout, both.Stderr = w, w
		if st, err := tpl.Run(ctx, both); err != nil || st.Code != 4 || got.Len() != len("out\nerr\nout2\n") {
			t.Errorf("Run with a func writer: %v %v %q", st, err, got.String())
		}
	})
}
