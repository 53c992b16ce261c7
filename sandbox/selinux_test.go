package sandbox_test

import (
	"errors"
	"testing"

	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/selinux"
)

func TestSELinuxOptions(t *testing.T) {
	if selinux.Enabled() {
		t.Skip("this test covers a host without SELinux; the labels are tested by package selinux where it is enabled")
	}
	// A label that is asked for is never dropped silently.
	_, err := sandbox.NewBuilder(sandbox.WithSELinuxLabel("container_t", "s0:c1,c2")).Build()
	var ue *sandbox.SpecError
	if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &ue) || ue.Field != "selinux" {
		t.Fatalf("a demanded label without SELinux: %v", err)
	}
	// Disabled, or left to the defaults, labelling is a no-op.
	for _, opts := range [][]sandbox.Option{{sandbox.WithoutSELinux()}, nil} {
		out, st := run(t, opts, "/bin/sh", "-c", "cat /proc/self/attr/current 2>/dev/null; true")
		if !st.Success() {
			t.Fatalf("%v: %s", st, out)
		}
	}
	// A malformed label is a spec error.
	_, err = sandbox.NewBuilder(sandbox.WithSELinuxLabel("", "s0:c1,c2,c3:bogus")).Build()
	if err == nil {
		t.Fatal("a malformed level was accepted")
	}
}
