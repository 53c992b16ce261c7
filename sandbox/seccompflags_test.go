package sandbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// TestSeccompFlags: a filter loaded with the log and spec_allow flags still
// filters (mkdir answers EPERM inside), and an unknown flag is refused by Build.
func TestSeccompFlags(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, f := range []uintptr{unix.SECCOMP_FILTER_FLAG_LOG, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW} {
			if err := seccomp.ProbeFlag(f); err != nil {
				t.Skipf("seccomp filter flag %#x: %v", f, err)
			}
		}
		prof := seccomp.Profile{DefaultAction: seccomp.ActAllow, Flags: []string{seccomp.FlagLog, seccomp.FlagSpecAllow},
			Syscalls: []seccomp.Rule{{Names: []string{"mkdir", "mkdirat"}, Action: seccomp.ActErrno}}}
		out, st := run(t, []sandbox.Option{sandbox.WithSeccompProfile(prof)}, "/bin/sh", "-c", "mkdir /tmp/x 2>&1; grep Seccomp_filters /proc/self/status")
		if !st.Success() || !strings.Contains(out, "Operation not permitted") || !strings.Contains(out, "Seccomp_filters:\t1") {
			t.Fatalf("inside: %v\n%q", st, out)
		}
		prof.Flags = []string{"SECCOMP_FILTER_FLAG_TSYNC"}
		_, err := sandbox.NewBuilder(sandbox.WithSeccompProfile(prof)).Build()
		var pe *seccomp.ProfileError
		if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.As(err, &pe) || pe.Field != "flags" {
			t.Fatalf("TSYNC: %v", err)
		}
	})
}
