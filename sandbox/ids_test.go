package sandbox_test

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestGroupsNeedSetgroups: supplementary groups in a user namespace whose setgroups
// is denied fail Build (an unprivileged caller's own-ID map, or vfork mode), and a
// root caller's own-ID map gets fork mode so that they work.
func TestGroupsNeedSetgroups(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		userNS := sandbox.WithUserNS(nil, nil)
		if testutil.Rootless() {
			sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithUser(0, 0, 0)}, "user.groups", "deny setgroups")
			return
		}
		sandboxtest.BuildFails(t, []sandbox.Option{userNS, sandbox.WithUser(0, 0, 0), sandbox.WithSpawnMode(sandbox.SpawnVfork)}, "spawn", "supplementary groups need fork mode")
		out, st := run(t, []sandbox.Option{userNS, sandbox.WithUser(0, 0, 0)}, "/bin/sh", "-c", "id -G; grep Groups /proc/self/status")
		if !st.Success() || out != "0\nGroups:\t0 \n" {
			t.Fatalf("exit %v, output %q; want group 0 alone", st, out)
		}
	})
}
