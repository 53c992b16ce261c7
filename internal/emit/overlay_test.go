package emit_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/emit"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/overlay"
	"golang.org/x/sys/unix"
)

// planOverlay emits the steps of spec's Plan in env into p.
func planOverlay(p *child.Program, spec overlay.Spec, env overlay.Env) error {
	steps, err := spec.Plan(env)
	if err != nil {
		return err
	}
	emit.Mounts(p, steps)
	return nil
}

// TestOverlay checks the ops of an overlay root: the staging tmpfs first, the
// overlay last, and the fuse driver's checkpoint.
func TestOverlay(t *testing.T) {
	staging := t.TempDir()
	lower := t.TempDir()
	for _, tc := range []struct {
		name  string
		spec  overlay.Spec
		env   overlay.Env
		kinds int
		data  string
	}{
		{"ephemeral rootful", overlay.Spec{Lower: []string{"/"}}, overlay.Env{Staging: staging}, 5,
			"lowerdir=/,upperdir=" + staging + "/upper,workdir=" + staging + "/work"},
		{"persistent userns", overlay.Spec{Lower: []string{lower}, Upper: "/u", Work: "/w", Driver: overlay.Kernel}, overlay.Env{Staging: staging, InUserNS: true}, 3,
			"lowerdir=" + lower + ",upperdir=/u,workdir=/w,userxattr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p child.Program
			if err := planOverlay(&p, tc.spec, tc.env); err != nil {
				t.Fatal(err)
			}
			if len(p.Ops) != tc.kinds {
				t.Fatalf("%d ops, want %d: %v", len(p.Ops), tc.kinds, p.Steps)
			}
			first, last := p.Ops[0], p.Ops[len(p.Ops)-1]
			if first.Trap != unix.SYS_MOUNT || cstr(first.Args[1]) != staging || cstr(first.Args[2]) != "tmpfs" {
				t.Errorf("first op: %v, want the staging tmpfs", p.Steps[0])
			}
			if last.Trap != unix.SYS_MOUNT || cstr(last.Args[2]) != "overlay" || cstr(last.Args[1]) != overlay.NewRoot(staging) || cstr(last.Args[4]) != tc.data {
				t.Errorf("last op: %v, want overlay on %s with %q", p.Steps[len(p.Steps)-1], overlay.NewRoot(staging), tc.data)
			}
		})
	}
	var p child.Program
	if err := planOverlay(&p, overlay.Spec{Lower: []string{staging + "/x"}}, overlay.Env{Staging: staging}); !errors.Is(err, overlay.ErrInvalid) {
		t.Errorf("a layer under the staging directory: got %v, want ErrInvalid", err)
	}
	p = child.Program{}
	err := planOverlay(&p, overlay.Spec{Lower: []string{"/"}, Driver: overlay.Fuse}, overlay.Env{Staging: staging})
	if ferr := overlay.FuseAvailable(); ferr != nil {
		if !errors.Is(err, overlay.ErrNotSupported) {
			t.Errorf("fuse driver without fuse-overlayfs (%v): got %v, want ErrNotSupported", ferr, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("fuse driver: %v", err)
	}
	// tmpfs, shared, mkdir root, upper, work, the checkpoint for the parent, private.
	if len(p.Ops) != 7 || p.Ops[5].Kind != child.KindCheckpoint || cstr(p.Ops[0].Args[2]) != "tmpfs" || p.Ops[1].Args[3] != unix.MS_SHARED {
		t.Errorf("fuse driver ops: %v", p.Steps)
	}
}

// TestIDMappedLayers: idmapped lower layers become one idmapped copy per layer,
// attached on the staging tmpfs and made the overlay's lowerdir.
func TestIDMappedLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("idmapped mounts need CAP_SYS_ADMIN over the filesystem (root)")
	}
	lower := t.TempDir()
	if err := overlay.IDMappedLayers(lower); errors.Is(err, overlay.ErrNotSupported) {
		t.Skipf("idmapped lower layers on %s: %v", lower, err)
	} else if err != nil {
		t.Fatal(err)
	}

	staging := t.TempDir()
	var p child.Program
	if err := planOverlay(&p, overlay.Spec{Lower: []string{lower, lower}, IDMap: true}, overlay.Env{Staging: staging, InUserNS: true}); err != nil {
		t.Fatal(err)
	}
	last := p.Ops[len(p.Ops)-1]
	want := fmt.Sprintf("lowerdir=%s/layer0:%s/layer1,upperdir=%s/upper,workdir=%s/work,userxattr", staging, staging, staging, staging)
	if len(p.Detached) != 2 || !p.Detached[1].IDMap || p.Detached[1].Path != lower || cstr(last.Args[4]) != want {
		t.Errorf("detached %v, overlay %q; want two idmapped layers and %q", p.Detached, cstr(last.Args[4]), want)
	}
}

// TestRootDir: the bind of a root directory is one mount(2) of the directory on
// the new root, recursive, out of the root.
func TestRootDir(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	steps, err := mounts.PlanRootDir(dir, staging)
	if err != nil {
		t.Fatal(err)
	}
	var p child.Program
	emit.Mounts(&p, steps)
	if len(p.Ops) != 1 {
		t.Fatalf("%d ops, want 1: %v", len(p.Ops), p.Steps)
	}
	op := p.Ops[0]
	if op.Trap != unix.SYS_MOUNT || cstr(op.Args[0]) != dir || cstr(op.Args[1]) != staging || op.Args[3] != unix.MS_BIND|unix.MS_REC {
		t.Errorf("op %+v (%v), want mount(%s, %s, MS_BIND|MS_REC)", op, p.Steps, dir, staging)
	}
}
