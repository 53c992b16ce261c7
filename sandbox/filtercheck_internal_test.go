package sandbox

import (
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// TestFilterCallsKnown: Build checks the seccomp filter against the system calls
// of every op that follows it in the child's program. An op whose kind has no
// list of calls (child.Program.CallsAfterSeccomp) escapes the check: none may
// follow the filter in the programs the options make.
func TestFilterCallsKnown(t *testing.T) {
	notify := seccomp.Default(caps.DockerDefault.Names())
	notify.Syscalls = append([]seccomp.Rule{{Names: []string{"mkdir"}, Action: seccomp.ActNotify}}, notify.Syscalls...)
	for _, c := range []struct {
		name string
		opts []Option
	}{
		{"default", nil},
		{"rootless", []Option{Rootless()}},
		{"without no_new_privs", []Option{WithNoNewPrivileges(false), WithUser(0, 0)}},
		{"user", []Option{WithUser(0, 0, 1)}},
		{"init", []Option{WithInit()}},
		{"notify", []Option{WithSeccompProfile(notify)}},
		{"landlock", []Option{WithLandlock(false)}},
		{"fork", []Option{WithSpawnMode(SpawnFork)}},
		{"hold", []Option{WithHold()}},
		{"hold with init", []Option{WithHold(), WithInit()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := NewBuilder(c.opts...).Build()
			if err != nil {
				t.Skipf("Build: %v", err)
			}
			defer tpl.Close()
			calls, unknown, ok := tpl.prog.CallsAfterSeccomp()
			if !ok {
				t.Fatal("no seccomp filter in the program")
			}
			if len(unknown) > 0 {
				t.Errorf("ops of kinds %v follow the filter, and their calls are not known", unknown)
			}
			if len(calls) < 3 {
				t.Errorf("only %d calls after the filter", len(calls))
			}
		})
	}
}
