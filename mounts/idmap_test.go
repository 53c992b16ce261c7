package mounts

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

// TestIDMapSupported: root can idmap a copy of the temporary directory's mount
// (or the test skips, naming why not) and cannot idmap sysfs; an idmapped bind
// compiles to a copy the parent makes for each start, attached in the root, and
// needs a new user namespace.
func TestIDMapSupported(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("idmapped mounts need CAP_SYS_ADMIN over the filesystem (root)")
	}
	dir := t.TempDir()
	err := IDMapSupported(dir, true)
	if errors.Is(err, ErrNotSupported) {
		t.Skipf("idmapped mounts of %s: %v", dir, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var ie *IDMapError
	if err := IDMapSupported("/sys/kernel", false); !errors.As(err, &ie) || ie.FSType != "sysfs" || !strings.Contains(err.Error(), "does not support") {
		t.Errorf("sysfs: %v, want an IDMapError", err)
	}

	spec := Spec{Binds: []Bind{{Source: dir, Target: "/x", ReadOnly: true, Recursive: true, IDMap: true}}}
	var p child.Program
	if err := Compile(spec, Env{NewRoot: "/staging/root", InUserNS: true}, &p); err != nil {
		t.Fatal(err)
	}
	i := find(view(&p), func(o opView) bool { return o.kind == child.KindBindIn && o.path == "/x" })
	if i < 0 || p.Ops[i].Args[0] != child.SourceDetached || p.Ops[i].Args[5] != 0 || len(p.Detached) != 1 {
		t.Fatalf("idmapped bind: %v, detached %v", p.Steps, p.Detached)
	}
	if d := p.Detached[0]; d.Path != dir || !d.IDMap || !d.Recursive || d.AttrSet&unix.MOUNT_ATTR_RDONLY == 0 {
		t.Errorf("the parent's copy: %+v", d)
	}
	if err := Compile(spec, Env{NewRoot: "/staging/root"}, &child.Program{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("without a user namespace: %v, want ErrInvalid", err)
	}
}
