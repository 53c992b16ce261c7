package sandbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// TestBuildRefusesStarvingFilter: a seccomp filter that stops a system call the
// child makes between loading it and executing the target (refused where the
// child needs it, killed, or held for a notification that nobody can answer yet)
// would fail or hang every start; Build refuses it, naming the calls. Filters
// that only refuse what the child can do without build.
func TestBuildRefusesStarvingFilter(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			name  string
			prof  seccomp.Profile
			opts  []sandbox.Option
			calls []string // named in the error; none: Build succeeds
		}{
			{"deny all", seccomp.Profile{DefaultAction: seccomp.ActErrno}, nil, []string{"execve", "exit_group", "rt_sigprocmask"}},
			{"execve killed", withRule(seccomp.Rule{Names: []string{"execve"}, Action: seccomp.ActKillProcess}), nil, []string{"execve (kill_process)"}},
			{"exit_group refused", withRule(seccomp.Rule{Names: []string{"exit_group"}, Action: seccomp.ActErrno}), nil, []string{"exit_group (errno EPERM)"}},
			{"exit_group 125 refused", withRule(seccomp.Rule{Names: []string{"exit_group"}, Action: seccomp.ActErrno,
				Args: []seccomp.Arg{{Index: 0, Op: seccomp.OpEqualTo, Value: 125}}}), nil, []string{"exit_group"}},
			{"signal mask notified", withRule(seccomp.Rule{Names: []string{"rt_sigprocmask"}, Action: seccomp.ActNotify}), nil, []string{"rt_sigprocmask (notify)"}},
			{"execve traced", withRule(seccomp.Rule{Names: []string{"execve"}, Action: seccomp.ActTrace}), nil, []string{"execve (trace)"}},
			{"report killed", withRule(seccomp.Rule{Names: []string{"write"}, Action: seccomp.ActKillProcess}), nil, []string{"write (kill_process)"}},
			{"listener send refused", withRule(seccomp.Rule{Names: []string{"sendmsg"}, Action: seccomp.ActNotify}), nil, []string{"sendmsg (notify)"}},
			{"user switch refused without no_new_privs", withRule(seccomp.Rule{Names: []string{"setresuid"}, Action: seccomp.ActErrno}),
				[]sandbox.Option{sandbox.WithNoNewPrivileges(false), sandbox.WithUser(0, 0)}, []string{"setresuid (errno EPERM)"}},
			{"held start's open refused", withRule(seccomp.Rule{Names: []string{"openat"}, Action: seccomp.ActErrno}),
				[]sandbox.Option{sandbox.WithHold()}, []string{"openat (errno EPERM)"}},
			{"held start's byte refused", withRule(seccomp.Rule{Names: []string{"write"}, Action: seccomp.ActErrno}),
				[]sandbox.Option{sandbox.WithHold()}, []string{"write (errno EPERM)"}},
			// What the child can do without.
			{"openat refused without a hold", withRule(seccomp.Rule{Names: []string{"openat"}, Action: seccomp.ActErrno}), nil, nil},
			{"report refused", withRule(seccomp.Rule{Names: []string{"write"}, Action: seccomp.ActErrno}), nil, nil},
			{"exit refused", withRule(seccomp.Rule{Names: []string{"exit"}, Action: seccomp.ActErrno}), nil, nil},
			{"execveat refused", withRule(seccomp.Rule{Names: []string{"execveat"}, Action: seccomp.ActErrno}), nil, nil},
			{"user switch refused with no_new_privs", withRule(seccomp.Rule{Names: []string{"setresuid"}, Action: seccomp.ActErrno}),
				[]sandbox.Option{sandbox.WithUser(0, 0)}, nil},
			{"docker", seccomp.Default(nil), nil, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				opts := append([]sandbox.Option{sandbox.WithSeccompProfile(c.prof)}, c.opts...)
				tpl, err := sandbox.NewBuilder(opts...).Build()
				if len(c.calls) == 0 {
					if err != nil {
						t.Fatalf("Build: %v", err)
					}
					tpl.Close()
					return
				}
				if err == nil {
					tpl.Close()
					t.Fatalf("Build accepted the filter; want it refused for %v", c.calls)
				}
				var se *sandbox.SpecError
				if !errors.As(err, &se) || se.Field != "seccomp" || !errors.Is(err, sandbox.ErrInvalidSpec) {
					t.Fatalf("%v (%T): want a *SpecError for field seccomp", err, err)
				}
				for _, call := range c.calls {
					if !strings.Contains(err.Error(), call) {
						t.Errorf("%v: does not name %s", err, call)
					}
				}
			})
		}
	})
}
