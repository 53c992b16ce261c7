package emit_test

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/emit"
	"github.com/paddock-sandbox/paddock/mounts"
	"golang.org/x/sys/unix"
)

func cstr(p uintptr) string {
	if p == 0 {
		return ""
	}
	return unix.BytePtrToString((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&p))))
}

// opView is an op as the tests look at it: its kind or system call, its path (the
// in-root path of an in-root step), its main argument and, for in-root steps, what
// it creates.
type opView struct {
	kind   child.Kind
	trap   uintptr
	path   string
	arg    uintptr
	create child.Create
}

func view(p *child.Program) []opView {
	var v []opView
	for i, op := range p.Ops {
		o := opView{kind: op.Kind, trap: op.Trap}
		switch {
		case p.InRootPath(i) != "":
			r := (*child.InRoot)(op.Ptr)
			o.path, o.arg, o.create = r.Path, op.Args[0], r.Create
		case op.Kind != child.KindSyscall:
			o.path, o.arg = cstr(op.Args[0]), op.Args[1]
		case op.Trap == unix.SYS_MOUNT:
			o.path, o.arg = cstr(op.Args[1]), op.Args[3]
		default:
			o.path, o.arg = cstr(op.Args[0]), op.Args[1]
		}
		v = append(v, o)
	}
	return v
}

func find(v []opView, pred func(opView) bool) int {
	for i, o := range v {
		if pred(o) {
			return i
		}
	}
	return -1
}

func is(kind child.Kind, path string) func(opView) bool {
	return func(o opView) bool { return o.kind == kind && o.path == path }
}

// planMounts emits the steps of PlanPropagation (with propagation) and Plan for
// spec in env into p.
func planMounts(p *child.Program, spec mounts.Spec, env mounts.Env, propagation bool) error {
	if propagation {
		st, err := mounts.PlanPropagation(spec)
		if err != nil {
			return err
		}
		emit.Mounts(p, []mounts.Step{st})
	}
	steps, err := mounts.Plan(spec, env)
	if err != nil {
		return err
	}
	emit.Mounts(p, steps)
	return nil
}

// TestMounts checks the ops that mount steps become: every mount point is an
// in-root step that resolves its path from a descriptor of the root, in the order
// the kernel needs, with the right sources, flags and creation.
func TestMounts(t *testing.T) {
	spec := mounts.Spec{
		Defaults: true,
		Binds:    []mounts.Bind{{Source: "/etc/hostname", Target: "/etc/hostname", ReadOnly: true}, {Source: "/usr", Target: "/host/usr", ReadOnly: true, Recursive: true}},
		Tmpfs:    []mounts.Tmpfs{{Target: "/tmp"}},
		Masked:   mounts.DefaultMasked, ReadOnly: mounts.DefaultReadOnly, ReadonlyRoot: true,
	}
	const root = "/staging/root"
	for _, tc := range []struct {
		name string
		env  mounts.Env
	}{
		{"rootful", mounts.Env{NewRoot: root, NewNetNS: true, NewPIDNS: true, NewIPCNS: true}},
		{"rootless", mounts.Env{NewRoot: root, InUserNS: true, NewPIDNS: true}},
		{"privileged", mounts.Env{NewRoot: root, Privileged: true, NewPIDNS: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p child.Program
			if err := planMounts(&p, spec, tc.env, true); err != nil {
				t.Fatal(err)
			}
			if len(p.Ops) != len(p.Steps) {
				t.Fatalf("%d ops but %d steps", len(p.Ops), len(p.Steps))
			}
			checkCompiled(t, &p, tc.env)
		})
	}

	var p child.Program
	if err := planMounts(&p, mounts.Spec{Chroot: true}, mounts.Env{NewRoot: root}, false); err != nil {
		t.Fatal(err)
	}
	v := view(&p)
	if find(v, func(o opView) bool { return o.trap == unix.SYS_PIVOT_ROOT }) >= 0 || find(v, func(o opView) bool { return o.trap == unix.SYS_CHROOT }) < 0 {
		t.Errorf("Chroot: %v", p.Steps)
	}
	if err := planMounts(&p, mounts.Spec{Binds: []mounts.Bind{{Source: "x", Target: "/x"}}}, mounts.Env{}, false); !errors.Is(err, mounts.ErrInvalid) {
		t.Errorf("Plan of an invalid spec: %v", err)
	}
}

func checkCompiled(t *testing.T, p *child.Program, env mounts.Env) {
	t.Helper()
	const root = "/staging/root"
	v := view(p)
	if v[0].path != "/" || v[0].arg != unix.MS_REC|unix.MS_PRIVATE {
		t.Errorf("first op %v (%v), want / made rprivate", v[0], p.Steps[0])
	}
	if v[1].kind != child.KindOpenRoot || v[1].path != root {
		t.Errorf("second op %v, want the root opened", p.Steps[1])
	}
	proc := find(v, func(o opView) bool {
		return (o.kind == child.KindMountIn || o.kind == child.KindBindIn) && o.path == "/proc"
	})
	dev := find(v, is(child.KindMountIn, "/dev"))
	hostname := find(v, is(child.KindBindIn, "/etc/hostname"))
	pivot := find(v, func(o opView) bool { return o.trap == unix.SYS_PIVOT_ROOT })
	if proc < 0 || dev < proc || hostname < dev || pivot < hostname {
		t.Errorf("order: proc %d, dev %d, bind %d, pivot_root %d", proc, dev, hostname, pivot)
	}
	for _, o := range v[:pivot] {
		if o.kind == child.KindMountIn && o.create != child.CreateDir {
			t.Errorf("mount on %s does not create a directory mount point", o.path)
		}
	}
	if null := find(v, func(o opView) bool { return o.path == "/dev/null" }); env.InUserNS {
		if null < 0 || v[null].kind != child.KindBindIn || v[null].create != child.CreateFile || cstr(v[null].arg) != "/dev/null" {
			t.Errorf("rootless /dev/null: want an empty file with the host's node bound on it, got %v", p.Steps[null])
		}
		// /sys without a new net namespace: a recursive copy of the host's, read-only throughout.
		sys := find(v, is(child.KindBindIn, "/sys"))
		if a := p.Ops[sys].Args; sys < 0 || a[1] != unix.AT_RECURSIVE || a[2]&unix.MOUNT_ATTR_RDONLY == 0 || a[4] != unix.AT_RECURSIVE {
			t.Errorf("rootless /sys: %v %v", p.Steps[sys], a)
		}
	} else if null < 0 || v[null].kind != child.KindMknodIn || v[null].arg != unix.S_IFCHR|0o666 || v[null].create != child.CreateParent {
		t.Errorf("rootful /dev/null: want mknod in /dev")
	}
	if a := p.Ops[hostname].Args; v[hostname].create != child.CreateFile || a[1] != 0 || a[2] != unix.MOUNT_ATTR_RDONLY {
		t.Errorf("read-only file bind: %v %v, create %v", p.Steps[hostname], a, v[hostname].create)
	}
	if i := find(v, is(child.KindBindIn, "/host/usr")); i < 0 || p.Ops[i].Args[1] != unix.AT_RECURSIVE || p.Ops[i].Args[4] != unix.AT_RECURSIVE {
		t.Errorf("recursive read-only bind is not read-only throughout")
	}
	want := []uintptr{unix.SYS_CHDIR, unix.SYS_PIVOT_ROOT, unix.SYS_UMOUNT2, unix.SYS_CHDIR}
	for i, trap := range want {
		if v[pivot-1+i].trap != trap {
			t.Errorf("pivot sequence op %d: %v", i, p.Steps[pivot-1+i])
		}
	}
	if v[pivot-1].path != root || v[pivot+2].path != "/" || v[pivot+1].arg != unix.MNT_DETACH || v[pivot+3].kind != child.KindOpenRoot || v[pivot+3].path != "/" {
		t.Errorf("pivot sequence: %v", p.Steps[pivot-1:pivot+4])
	}
	masks(t, p, v, env, pivot)
	if last := v[len(v)-1]; last.kind != child.KindSetAttrIn || last.path != "/" || p.Ops[len(v)-1].Args[0] != unix.MOUNT_ATTR_RDONLY {
		t.Errorf("last op %v, want the read-only flag on /", p.Steps[len(p.Steps)-1])
	}
}

func masks(t *testing.T, p *child.Program, v []opView, env mounts.Env, pivot int) {
	t.Helper()
	mask := find(v, func(o opView) bool { return o.kind == child.KindMaskIn })
	selfBind := func(o opView) bool { return o.kind == child.KindBindIn && o.arg == child.SourceSelf }
	if env.Privileged {
		if mask >= 0 || find(v, selfBind) >= 0 {
			t.Error("privileged sandbox has masks or read-only paths")
		}
		if sys := find(v, is(child.KindMountIn, "/sys")); p.Ops[sys].Args[2]&unix.MS_RDONLY != 0 {
			t.Error("privileged /sys is read-only")
		}
		return
	}
	null := find(v, is(child.KindSourceIn, "/dev/null"))
	if null < pivot || mask < null || p.Ops[null].Args[0] != uintptr(unix.Mkdev(1, 3)) {
		t.Errorf("masks: the source %d (checked to be 1:3) must follow pivot_root %d and precede the masks %d", null, pivot, mask)
	}
	for i, op := range p.Ops {
		if (op.Kind == child.KindMaskIn || selfBind(v[i])) && op.Flags&child.IgnoreENOENT == 0 {
			t.Errorf("%v: not IgnoreENOENT", p.Steps[i])
		}
		if (op.Kind == child.KindMaskIn || selfBind(v[i])) && v[i].create != child.CreateNone {
			t.Errorf("%v: creates its path", p.Steps[i])
		}
	}
	ro := find(v, func(o opView) bool { return selfBind(o) && o.path == "/proc/sys" })
	if ro < 0 || p.Ops[ro].Args[2] != unix.MOUNT_ATTR_RDONLY || p.Ops[ro].Args[4] != unix.AT_RECURSIVE {
		t.Errorf("read-only /proc/sys: want a read-only copy of itself bound on itself")
	}
}

// TestIDMappedBind: an idmapped bind becomes a copy the parent makes for each
// start, attached in the root, and needs a new user namespace.
func TestIDMappedBind(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("idmapped mounts need CAP_SYS_ADMIN over the filesystem (root)")
	}
	dir := t.TempDir()
	if err := mounts.IDMapSupported(dir, true); errors.Is(err, mounts.ErrNotSupported) {
		t.Skipf("idmapped mounts of %s: %v", dir, err)
	} else if err != nil {
		t.Fatal(err)
	}

	spec := mounts.Spec{Binds: []mounts.Bind{{Source: dir, Target: "/x", ReadOnly: true, Recursive: true, IDMap: true}}}
	var p child.Program
	if err := planMounts(&p, spec, mounts.Env{NewRoot: "/staging/root", InUserNS: true}, false); err != nil {
		t.Fatal(err)
	}
	i := find(view(&p), func(o opView) bool { return o.kind == child.KindBindIn && o.path == "/x" })
	if i < 0 || p.Ops[i].Args[0] != child.SourceDetached || p.Ops[i].Args[5] != 0 || len(p.Detached) != 1 {
		t.Fatalf("idmapped bind: %v, detached %v", p.Steps, p.Detached)
	}
	if d := p.Detached[0]; d.Path != dir || !d.IDMap || !d.Recursive || d.AttrSet&unix.MOUNT_ATTR_RDONLY == 0 {
		t.Errorf("the parent's copy: %+v", d)
	}
	if err := planMounts(&child.Program{}, spec, mounts.Env{NewRoot: "/staging/root"}, false); !errors.Is(err, mounts.ErrInvalid) {
		t.Errorf("without a user namespace: %v, want ErrInvalid", err)
	}
}
