// Package sandboxtest holds test helpers that need package sandbox, for the tests
// outside it (its own tests in package sandbox cannot import it: the import would
// be a cycle).
package sandboxtest

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// BuildFails builds opts and checks that Build refuses them with a *SpecError for
// field whose message holds every one of want, and leaves no descriptor or child.
func BuildFails(t *testing.T, opts []sandbox.Option, field string, want ...string) {
	t.Helper()
	before := testutil.OpenFDs(t)
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err == nil {
		tpl.Close()
		t.Fatalf("Build succeeded; want a *SpecError for %s", field)
	}
	SpecErrorFor(t, err, field, want...)
	if after := testutil.OpenFDs(t); after != before {
		t.Errorf("Build leaked descriptors: %d -> %d", before, after)
	}
	testutil.NoChildren(t)
}

// SpecErrorFor checks that err is a *SpecError for field, matching ErrInvalidSpec,
// whose message holds every one of want.
func SpecErrorFor(t *testing.T, err error, field string, want ...string) {
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

// Sleeper builds a Template of opts and starts "sleep 60" in it, a sandbox for
// others to join or inspect; the test's cleanup kills and reaps it and closes
// the Template.
func Sleeper(t testing.TB, opts ...sandbox.Option) *sandbox.Process {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tpl.Close() })
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "60"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Signal(syscall.SIGKILL); p.Wait() })
	return p
}
