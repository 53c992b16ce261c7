package sandbox

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// TestSeccompFlagsLoaded: the child loads a profile's filter with its flags.
func TestSeccompFlagsLoaded(t *testing.T) {
	if err := seccomp.ProbeFlag(unix.SECCOMP_FILTER_FLAG_LOG); err != nil {
		t.Skipf("seccomp filter flag log: %v", err)
	}
	prof := seccomp.Profile{DefaultAction: seccomp.ActAllow, Flags: []string{seccomp.FlagLog},
		Syscalls: []seccomp.Rule{{Names: []string{"mkdir"}, Action: seccomp.ActErrno}}}
	tpl, err := NewBuilder(WithSeccompProfile(prof)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	for _, op := range tpl.prog.Ops {
		if op.Kind == child.KindSeccomp {
			if op.Args[1] != unix.SECCOMP_FILTER_FLAG_LOG {
				t.Fatalf("the filter is loaded with flags %#x", op.Args[1])
			}
			return
		}
	}
	t.Fatal("no seccomp op")
}
