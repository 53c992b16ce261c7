package sandbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// buildFails builds opts and checks that Build refuses them with a *SpecError for
// field whose message holds every one of want, and leaves no descriptor or child.
func buildFails(t *testing.T, opts []sandbox.Option, field string, want ...string) {
	t.Helper()
	before := testutil.OpenFDs(t)
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err == nil {
		tpl.Close()
		t.Fatalf("Build succeeded; want a *SpecError for %s", field)
	}
	specErrorFor(t, err, field, want...)
	if after := testutil.OpenFDs(t); after != before {
		t.Errorf("Build leaked descriptors: %d -> %d", before, after)
	}
	testutil.NoChildren(t)
}

// specErrorFor checks that err is a *SpecError for field, matching ErrInvalidSpec,
// whose message holds every one of want.
func specErrorFor(t *testing.T, err error, field string, want ...string) {
	t.Helper()
	var se *sandbox.SpecError
	if !errors.As(err, &se) || !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Fatalf("%T %v: want a *SpecError matching ErrInvalidSpec", err, err)
	}
	if se.Field != field {
		t.Errorf("%v: names field %q, want %q", err, se.Field, field)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v: does not say %q", err, w)
		}
	}
	t.Log(err)
}

// TestGroupsNeedSetgroups: supplementary groups in a user namespace whose setgroups
// is denied fail Build (an unprivileged caller's own-ID map, or vfork mode), and a
// root caller's own-ID map gets fork mode so that they work.
func TestGroupsNeedSetgroups(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		userNS := sandbox.WithUserNS(nil, nil)
		if testutil.Rootless() {
			buildFails(t, []sandbox.Option{sandbox.WithUser(0, 0, 0)}, "user.groups", "deny setgroups")
			return
		}
		buildFails(t, []sandbox.Option{userNS, sandbox.WithUser(0, 0, 0), sandbox.WithSpawnMode(sandbox.SpawnVfork)}, "spawn", "supplementary groups need fork mode")
		out, st := run(t, []sandbox.Option{userNS, sandbox.WithUser(0, 0, 0)}, "/bin/sh", "-c", "id -G; grep Groups /proc/self/status")
		if !st.Success() || out != "0\nGroups:\t0 \n" {
			t.Fatalf("exit %v, output %q; want group 0 alone", st, out)
		}
	})
}
