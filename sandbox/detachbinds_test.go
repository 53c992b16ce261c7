package sandbox_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestDetachedBindsLimit: as root, a sandbox in a user namespace whose root
// is another host user has the parent copy every bind's source for each start;
// more than a start can carry are refused by Build, by field, not at Start.
func TestDetachedBindsLimit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a user namespace mapping root to another uid is a root caller's")
	}
	m := []namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	opts := []sandbox.Option{sandbox.WithUserNS(m, m)}
	dir := t.TempDir()
	for i := 0; i < 33; i++ {
		opts = append(opts, sandbox.WithBind(dir, fmt.Sprintf("/b%d", i), true))
	}
	_, err := sandbox.NewBuilder(opts...).Build()
	var se *sandbox.SpecError
	if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &se) || se.Field != "mounts" {
		t.Errorf("Build: %v; want a SpecError of mounts, not supported", err)
	}
}
