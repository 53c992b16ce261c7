package adversarial_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// dockerWith returns Docker's default profile with rules ahead of its own.
func dockerWith(rules ...seccomp.Rule) seccomp.Profile {
	prof := seccomp.Default(caps.DockerDefault.Names())
	prof.Syscalls = append(rules, prof.Syscalls...)
	return prof
}

// notNull is the condition "argument i is not 0", true of every pointer and
// descriptor the child passes and false of the 0 that Build evaluates them with.
func notNull(i uint) []seccomp.Arg {
	return []seccomp.Arg{{Index: i, Op: seccomp.OpNotEqual, Value: 0}}
}

// TestHostileSeccompProfiles: a profile from a hostile user that starves the
// child between its filter and the target (refuses, kills or holds for a
// notification a call it still makes) must neither hang the caller nor leave
// anything behind. Build refuses what it can see; what it cannot (rules that
// decide on the child's pointers and descriptors) fails at Start, within the
// start's deadline, in both spawn modes.
func TestHostileSeccompProfiles(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		t.Run("seen by Build", func(t *testing.T) {
			for _, prof := range []struct {
				name string
				prof seccomp.Profile
				want []string
			}{
				{"deny everything", seccomp.Profile{DefaultAction: seccomp.ActErrno}, []string{"execve", "exit_group"}},
				{"kill everything", seccomp.Profile{DefaultAction: seccomp.ActKillProcess}, []string{"execve", "exit_group"}},
				{"notify everything", seccomp.Profile{DefaultAction: seccomp.ActNotify}, []string{"execve", "exit_group"}},
				{"exit_group interrupted", dockerWith(seccomp.Rule{Names: []string{"exit_group"}, Action: seccomp.ActErrno, Errno: uint16(syscall.EINTR)}), []string{"exit_group (errno EINTR)"}},
				{"execve trapped", dockerWith(seccomp.Rule{Names: []string{"execve"}, Action: seccomp.ActTrap}), []string{"execve (trap)"}},
			} {
				t.Run(prof.name, func(t *testing.T) {
					sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithSeccompProfile(prof.prof)}, "seccomp", prof.want...)
				})
			}
		})
		for _, m := range []sandbox.SpawnMode{sandbox.SpawnFork, sandbox.SpawnVfork} {
			t.Run(string(m), func(t *testing.T) {
				testutil.UnderWatchdog(t, 2*time.Minute, func(t *testing.T) { hostileAtStart(t, m) })
			})
		}
	})
}

// hostileAtStart starts sandboxes under the profiles that Build cannot see
// through, in spawn mode m.
func hostileAtStart(t *testing.T, m sandbox.SpawnMode) {
	for _, c := range []struct {
		name     string
		prof     seccomp.Profile
		program  string
		deadline bool // the start ends at its deadline (else at once, with the child's exit)
	}{
		// The target's execve waits for a supervisor that Start cannot hand over.
		{"execve held", dockerWith(seccomp.Rule{Names: []string{"execve"}, Action: seccomp.ActNotify, Args: notNull(0)}), "/bin/true", true},
		// A failed exec's report waits likewise.
		{"report held", dockerWith(seccomp.Rule{Names: []string{"write"}, Action: seccomp.ActNotify, Args: notNull(0)}), "/no/such/program", true},
		// The report's write fails with EINTR, every time: the child must not
		// retry for ever, and its exit tells of the lost report.
		{"report interrupted", dockerWith(seccomp.Rule{Names: []string{"write"}, Action: seccomp.ActErrno, Errno: uint16(syscall.EINTR)}), "/no/such/program", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := sandbox.NewBuilder(sandbox.WithSpawnMode(m), sandbox.WithSeccompProfile(c.prof)).Build()
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			defer tpl.Close()
			before := testutil.FDs()
			const timeout = time.Second
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			p, err := tpl.Start(ctx, sandbox.Command{Args: []string{c.program}, Stdout: os.Stdout})
			took := time.Since(start)
			if err == nil {
				p.Kill()
				p.Wait()
				t.Fatalf("Start succeeded after %v", took)
			}
			t.Logf("after %v: %v", took, err)
			var ce *sandbox.ChildError
			if !errors.As(err, &ce) || !errors.Is(err, sandbox.ErrSetup) {
				t.Errorf("%T %v: want a *ChildError", err, err)
			}
			switch {
			case took > timeout+2*time.Second:
				t.Errorf("Start took %v, beyond its deadline", took)
			case c.deadline && !errors.Is(err, context.DeadlineExceeded):
				t.Errorf("%v: want context.DeadlineExceeded", err)
			case !c.deadline && (took >= timeout || !errors.Is(err, syscall.EIO)):
				t.Errorf("%v after %v: want the lost report (EIO) at once", err, took)
			}
			testutil.NoNewFDs(t, before)
			testutil.NoChildren(t)
		})
	}
}
