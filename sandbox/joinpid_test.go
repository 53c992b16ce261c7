package sandbox_test

import (
	"os"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestJoinPIDNamespace: with an init, a sandbox joins every namespace of a running
// one, the user namespace first, its pid namespace included: the target sees the
// first sandbox's processes and root, its namespaces are the first's, and its
// status comes back through the init. A user switch works in a joined user
// namespace whose creator denied setgroups(2).
func TestJoinPIDNamespace(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		first := sandboxtest.Sleeper(t)
		// A user switch: in the rootless half the joined user namespace
		// denies setgroups(2), so the child must keep its groups there.
		opts := []sandbox.Option{sandbox.WithInit(), sandbox.WithUser(0, 0)}
		want := map[namespace.Kind]string{}
		for _, k := range namespace.Kinds {
			link, err := os.Readlink(k.Path(first.Pid()))
			if err != nil {
				t.Fatal(err)
			}
			own, _ := os.Readlink(k.Path(os.Getpid()))
			if link != own {
				opts = append(opts, sandbox.WithJoinNamespaceOf(k, first.Pid()))
				want[k] = link
			}
		}
		if len(want) < 5 {
			t.Fatalf("the first sandbox has only %d namespaces of its own: %v", len(want), want)
		}
		script := "for k in " + kinds(want) + "; do echo $k $(readlink /proc/self/ns/$k); done; ps -o comm= 2>/dev/null | head -3; cat /proc/1/comm; exit 7"
		out, st := run(t, opts, "/bin/sh", "-c", script)
		if st.Code != 7 {
			t.Fatalf("status %v, want exit 7: %s", st, out)
		}
		for k, link := range want {
			if !strings.Contains(out, string(k)+" "+link+"\n") {
				t.Errorf("namespace %s is not the first sandbox's %s:\n%s", k, link, out)
			}
		}
		if !strings.Contains(out, "sleep\n") {
			t.Errorf("/proc/1 is not the first sandbox's sleep:\n%s", out)
		}
	})
}

// kinds lists the keys of m, separated by spaces.
func kinds(m map[namespace.Kind]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, " ")
}

// TestJoinedTerminal: a sandbox that joins the mount namespace of a running one
// with its own /dev/pts gets its terminal there, as runc's exec does: the name,
// the device, the size, job control, and the session all check out from inside.
func TestJoinedTerminal(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		first := sandboxtest.Sleeper(t)
		opts := []sandbox.Option{sandbox.WithInit()}
		for _, k := range namespace.Kinds {
			link, _ := os.Readlink(k.Path(first.Pid()))
			if own, _ := os.Readlink(k.Path(os.Getpid())); link != own {
				opts = append(opts, sandbox.WithJoinNamespaceOf(k, first.Pid()))
			}
		}
		out, st := onTerminal(t, opts, "/bin/sh", "-c", ttyScript)
		if !st.Success() {
			t.Fatalf("%v: %s", st, out)
		}
		checkTTY(t, out)
	})
}

// TestInitTerminal: with an init, the target, not the init, leads the session
// that owns the terminal, so that its shell has job control.
func TestInitTerminal(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, st := onTerminal(t, []sandbox.Option{sandbox.WithInit()}, "/bin/sh", "-c", ttyScript)
		if !st.Success() {
			t.Fatalf("%v: %s", st, out)
		}
		checkTTY(t, out)
	})
}
