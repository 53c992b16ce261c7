package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestJoinedHostname: a sandbox that joins another's uts namespace and names
// a host sets that namespace's name, as an OCI runtime sets a pod's; a third
// sandbox that joins it sees the new name, and one that names a host without
// a uts namespace of its own is refused.
func TestJoinedHostname(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder(sandbox.WithHostname("first")).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "30"}})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Wait()
		defer p.Kill()
		join := []sandbox.Option{sandbox.WithJoinNamespaceOf(namespace.UTS, p.Pid())}
		if testutil.Rootless() {
			// As in TestJoinNamespace: the uts namespace is owned by the first
			// sandbox's user namespace, which the others join too.
			join = append(join, sandbox.WithJoinNamespaceOf(namespace.User, p.Pid()), sandbox.WithHostNamespaces(namespace.PID))
		}
		if out, _ := run(t, append(join, sandbox.WithHostname("second")), "/bin/hostname"); strings.TrimSpace(out) != "second" {
			t.Fatalf("hostname set in the joined uts namespace: %q", out)
		}
		if out, _ := run(t, join, "/bin/hostname"); strings.TrimSpace(out) != "second" {
			t.Fatalf("hostname of the joined uts namespace, seen by a third sandbox: %q", out)
		}
		_, err = sandbox.NewBuilder(sandbox.WithHostNamespaces(namespace.UTS), sandbox.WithHostname("third")).Build()
		if err == nil || !strings.Contains(err.Error(), "uts namespace") {
			t.Errorf("a hostname with the host's uts namespace: %v", err)
		}
	})
}
