package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestRootDirUnreachable: a root directory below a 0700 directory of the
// host's root, which the sandbox's root (uid 100000 on the host, through its
// user namespace) may not search, fails the start at once with EACCES, naming
// the directory in the way, instead of being tried again as if the host's mount
// table had changed; nothing is left behind.
func TestRootDirUnreachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to map the sandbox's root to another user of the host")
	}
	top := testutil.SharedTempDir(t, "paddock-unreachable-")
	if err := os.Chmod(top, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(top, "rootfs")
	if err := os.Rename(testutil.BusyboxRoot(t), dir); err != nil {
		t.Fatal(err)
	}
	maps := []namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	leavesNothing(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder(sandbox.WithRootDir(dir), sandbox.WithUserNS(maps, maps)).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		_, err = tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/true"}})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || !errors.Is(err, syscall.EACCES) || errors.Is(err, sandbox.ErrMountsChanging) {
			t.Fatalf("Run = %v, want a *ChildError with EACCES, not ErrMountsChanging", err)
		}
		for _, want := range []string{dir, top + " (mode 0700, owner 0) is on the way", "uid 100000"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v\ndoes not say %q", err, want)
			}
		}
	})
}
