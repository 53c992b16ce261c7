package sandbox_test

import (
	"errors"
	"testing"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// FuzzParseSpec: ParseSpec and Validate never panic, and every refusal is typed,
// matching ErrInvalidSpec or ErrNotSupported. A Spec that validates has its user's
// IDs in 0..namespace.MaxID. Validate reads files (ID ranges, directories) but
// starts nothing.
//
// Fuzz it with -race: go test -fuzz instruments every package, and the instrumented
// child of internal/child (nosplit throughout, linked here since the tests start
// sandboxes) then needs more stack than the linker allows; the race build doubles
// that limit.
func FuzzParseSpec(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := sandbox.ParseSpec(data)
		if err != nil {
			typed(t, "ParseSpec", err)
			return
		}
		if err := s.Validate(); err != nil {
			typed(t, "Validate", err)
			return
		}
		if u := s.User; u != nil {
			for _, id := range append([]uint32{u.UID, u.GID}, u.Groups...) {
				if id > namespace.MaxID {
					t.Fatalf("Validate accepted the user %+v, with ID %d above MaxID", *u, id)
				}
			}
			if len(u.Groups) > sandbox.MaxGroups {
				t.Fatalf("Validate accepted %d groups", len(u.Groups))
			}
		}
	})
}

// typed fails t unless err matches ErrInvalidSpec or ErrNotSupported.
func typed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, sandbox.ErrInvalidSpec) && !errors.Is(err, sandbox.ErrNotSupported) {
		t.Fatalf("%s: %T %v matches neither ErrInvalidSpec nor ErrNotSupported", what, err, err)
	}
}
