package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// privilegeFields are the lines of /proc/self/status that say what a sandbox
// may do: its seccomp mode and filters, no_new_privs and capability sets.
var privilegeFields = []string{"Seccomp", "Seccomp_filters", "NoNewPrivs", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}

// TestPoolPrivileges checks that a pooled start, whose warm child dropped the
// bounding set before it waited, ends with the privileges of an unpooled start
// of the same Template, for the default sandbox (whose warm child also loaded
// its seccomp filter before it waited), the presets, a target user and a
// profile that refuses prlimit64, which keeps the filter's load after the pool
// point.
func TestPoolPrivileges(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		noRlimit := seccomp.Default(caps.DockerDefault.Names())
		noRlimit.Syscalls = append([]seccomp.Rule{{Names: []string{"prlimit64"}, Action: seccomp.ActErrno}}, noRlimit.Syscalls...)
		cases := map[string][]sandbox.Option{"default": nil, "privileged": {sandbox.Privileged()},
			"refuses prlimit64":    {sandbox.WithSeccompProfile(noRlimit)},
			"without no_new_privs": {sandbox.WithNoNewPrivileges(false)}}
		if os.Geteuid() == 0 {
			cases["rootful"] = []sandbox.Option{sandbox.Rootful()}
			cases["rootless"] = []sandbox.Option{sandbox.Rootless()}
			cases["rootful user 1000"] = []sandbox.Option{sandbox.Rootful(), sandbox.WithUser(1000, 1000)}
		}
		for name, opts := range cases {
			t.Run(name, func(t *testing.T) { checkPoolPrivileges(t, opts) })
		}
	})
}

// checkPoolPrivileges compares the privileges of an unpooled and a pooled
// start of a Template built from opts.
func checkPoolPrivileges(t *testing.T, opts []sandbox.Option) {
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { tpl.Close() })
	var unpooled, got map[string]string
	statusOf(t, tpl, &unpooled)
	for _, k := range privilegeFields {
		if unpooled[k] == "" {
			t.Fatalf("no %s in an unpooled start's /proc/self/status", k)
		}
	}
	if err := tpl.Pool(context.Background(), 1); err != nil {
		t.Fatalf("Pool: %v", err)
	}
	servedWarm(t, tpl, func() int { return statusOf(t, tpl, &got) })
	for _, k := range privilegeFields {
		if got[k] != unpooled[k] {
			t.Errorf("%s: pooled %q, unpooled %q", k, got[k], unpooled[k])
		}
	}
}

// statusOf reads /proc/self/status in a start of tpl into m and returns the
// start's pid.
func statusOf(t *testing.T, tpl *sandbox.Template, m *map[string]string) int {
	t.Helper()
	var out bytes.Buffer
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/cat", "/proc/self/status"}, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("cat /proc/self/status: %v %v\n%s", st, err, out.String())
	}
	*m = map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			(*m)[k] = strings.TrimSpace(v)
		}
	}
	return p.Pid()
}
