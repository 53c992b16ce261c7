package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestReleaseExecFailure: Release from the FIFO alone, as an OCI runtime's
// start does, reports a target that could not be executed with the errno of
// its execve, where nothing reads the sandbox's error pipe (a program that was
// there when the start held, and is gone at the release); a target that was
// executed releases without error. As root and as uid 65534.
func TestReleaseExecFailure(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			remove bool
			errno  syscall.Errno
		}{
			{true, syscall.ENOENT},
			{false, 0},
		} {
			dir, fifo := heldDir(t)
			prog := filepath.Join(dir, "prog")
			if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			tpl, err := sandbox.NewBuilder(sandbox.WithHold(), sandbox.WithBind(dir, "/out", false)).Build()
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/out/prog"}, HoldFIFO: fifo})
			tpl.Close()
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if c.remove {
				os.Remove(prog)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = sandbox.Release(ctx, fifo)
			cancel()
			var ce *sandbox.ChildError
			switch {
			case c.errno == 0 && err != nil:
				t.Errorf("removed %v: Release: %v", c.remove, err)
			case c.errno != 0 && (!errors.As(err, &ce) || ce.Stage != "exec" || ce.Errno != c.errno):
				t.Errorf("removed %v: Release: %v; want a *ChildError of stage exec with %v", c.remove, err, c.errno)
			}
			want := 125
			if c.errno == 0 {
				want = 0
			}
			if st, err := p.Wait(); err != nil || st.Code != want {
				t.Errorf("removed %v: Wait: %v, %v; want exit %d", c.remove, st, err, want)
			}
		}
	})
}

// TestHoldBeforePivot: a held start calls the Command's BeforePivot with the
// sandbox's pid while it waits in its own mount namespace, its root not yet
// pivoted into; an error of it fails the start, wrapped, leaving nothing; a
// Template that does not hold, or holds without WithHoldBeforePivot, refuses
// it, and WithHoldBeforePivot without WithHold fails Build. As root and as uid
// 65534.
func TestHoldBeforePivot(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		_, fifo := heldDir(t)
		tpl, err := sandbox.NewBuilder(sandbox.WithHold(), sandbox.WithHoldBeforePivot()).Build()
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		defer tpl.Close()
		self, _ := os.Readlink("/proc/self/ns/mnt")
		var calls []string
		before := func(pid int) error {
			ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
			root, err := os.Readlink(fmt.Sprintf("/proc/%d/root", pid))
			calls = append(calls, fmt.Sprintf("%d %v %s %v", pid, ns != self && ns != "", root, err))
			return nil
		}
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: fifo, BeforePivot: before})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		if want := fmt.Sprintf("%d true / <nil>", p.Pid()); len(calls) != 1 || calls[0] != want {
			t.Errorf("BeforePivot calls %q, want [%q]", calls, want)
		}
		if err := p.Release(context.Background()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if st, err := p.Wait(); err != nil || !st.Success() {
			t.Errorf("Wait: %v, %v", st, err)
		}

		boom := errors.New("the hook failed")
		_, err = tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: fifo,
			BeforePivot: func(int) error { return boom }})
		var ce *sandbox.ChildError
		if !errors.Is(err, boom) || !errors.As(err, &ce) || ce.Stage != "mount" {
			t.Errorf("Start with a failing BeforePivot: %v", err)
		}

		plain, err := sandbox.NewBuilder().Build()
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		defer plain.Close()
		if _, err := plain.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, BeforePivot: before}); !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Errorf("BeforePivot without a hold: %v", err)
		}
		heldOnly, err := sandbox.NewBuilder(sandbox.WithHold()).Build()
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		defer heldOnly.Close()
		if _, err := heldOnly.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: fifo, BeforePivot: before}); !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Errorf("BeforePivot without WithHoldBeforePivot: %v", err)
		}
		if _, err := sandbox.NewBuilder(sandbox.WithHoldBeforePivot()).Build(); !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Errorf("WithHoldBeforePivot without WithHold: %v", err)
		}
	})
}
