package mounts

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

func TestDefaultMountsExact(t *testing.T) {
	// facts.md: moby's defaults, with cgroup2 where the host has it.
	want := []Mount{
		{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, ""},
		{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
		{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"shm", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, "mode=1777,size=65536k"},
		{"mqueue", "/dev/mqueue", "mqueue", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, ""},
		{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, ""},
		{"cgroup", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, ""},
	}
	if got := DefaultMounts(Env{CgroupV2: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("rootful defaults:\n got %v\nwant %v", got, want)
	}

	// Rootless without new net, pid, IPC and cgroup namespaces: host binds.
	got := DefaultMounts(Env{InUserNS: true, CgroupV2: true, UnmappedTTYGroup: true})
	byTarget := map[string]Mount{}
	for _, m := range got {
		byTarget[m.Target] = m
	}
	if _, ok := byTarget["/dev/mqueue"]; ok {
		t.Error("mqueue in a user namespace without a new IPC namespace")
	}
	for _, tgt := range []string{"/proc", "/sys", "/sys/fs/cgroup"} {
		m := byTarget[tgt]
		if m.Source != tgt || m.Flags&(unix.MS_BIND|unix.MS_REC) != unix.MS_BIND|unix.MS_REC {
			t.Errorf("%s: got %v, want a recursive bind of the host's", tgt, m)
		}
	}
	if m := byTarget["/sys"]; m.Flags&unix.MS_RDONLY == 0 {
		t.Errorf("/sys bind is not read-only: %v", m)
	}
	if d := byTarget["/dev/pts"].Data; d != "newinstance,ptmxmode=0666,mode=0620" {
		t.Errorf("devpts without tty group: data %q", d)
	}

	// Privileged: /sys and /sys/fs/cgroup read-write.
	for _, m := range DefaultMounts(Env{Privileged: true, CgroupV2: true}) {
		if m.Flags&unix.MS_RDONLY != 0 {
			t.Errorf("privileged: %v is read-only", m)
		}
	}
	// cgroup v1 or hybrid host: the host tree, read-only.
	ms := DefaultMounts(Env{})
	if cg := ms[len(ms)-1]; cg.Source != "/sys/fs/cgroup" || cg.Flags&unix.MS_RDONLY == 0 || cg.Flags&unix.MS_BIND == 0 {
		t.Errorf("cgroup v1: got %v, want a read-only bind of the host's tree", cg)
	}
}

func TestDefaultLists(t *testing.T) {
	wantMasked := []string{"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
		"/sys/devices/virtual/powercap", "/sys/firmware", "/sys/devices/system/cpu/cpu*/thermal_throttle"}
	if !reflect.DeepEqual(DefaultMasked, wantMasked) {
		t.Errorf("DefaultMasked = %v", DefaultMasked)
	}
	wantRO := []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	if !reflect.DeepEqual(DefaultReadOnly, wantRO) {
		t.Errorf("DefaultReadOnly = %v", DefaultReadOnly)
	}
	if slices.Contains(PodmanMasked, "/proc/asound") || !slices.Contains(PodmanMasked, "/sys/fs/selinux") || len(PodmanMasked) != len(DefaultMasked) {
		t.Errorf("PodmanMasked = %v", PodmanMasked)
	}
	if !slices.Contains(PodmanReadOnly, "/proc/asound") || len(PodmanReadOnly) != len(DefaultReadOnly)+1 {
		t.Errorf("PodmanReadOnly = %v", PodmanReadOnly)
	}
	wantDev := map[string][2]uint32{"/dev/null": {1, 3}, "/dev/zero": {1, 5}, "/dev/full": {1, 7},
		"/dev/random": {1, 8}, "/dev/urandom": {1, 9}, "/dev/tty": {5, 0}}
	if len(DefaultDevices) != len(wantDev) {
		t.Errorf("DefaultDevices = %v", DefaultDevices)
	}
	for _, d := range DefaultDevices {
		if wantDev[d.Path] != [2]uint32{d.Major, d.Minor} || d.Mode != 0o666 {
			t.Errorf("device %v", d)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		is   error // besides ErrInvalid
		as   any
	}{
		{"relative bind target", Spec{Binds: []Bind{{Source: "/tmp", Target: "tmp"}}}, nil, new(*MountError)},
		{"missing bind source", Spec{Binds: []Bind{{Source: "/nonexistent/paddock", Target: "/x"}}}, fs.ErrNotExist, new(*MountError)},
		{"unclean target", Spec{Binds: []Bind{{Source: "/tmp", Target: "/a/../etc"}}}, nil, new(*MountError)},
		{"bad bind propagation", Spec{Binds: []Bind{{Source: "/tmp", Target: "/x", Propagation: "sideways"}}}, nil, new(*MountError)},
		{"relative mask", Spec{Masked: []string{"proc/kcore"}}, nil, new(*PathError)},
		{"relative read-only", Spec{ReadOnly: []string{"proc/sys"}}, nil, new(*PathError)},
		{"bad root propagation", Spec{RootPropagation: "unbindable"}, nil, nil},
		{"tmpfs bad size", Spec{Tmpfs: []Tmpfs{{Target: "/tmp", Size: "64q"}}}, nil, new(*PathError)},
		{"tmpfs bad mode", Spec{Tmpfs: []Tmpfs{{Target: "/tmp", Mode: 0o17777}}}, nil, new(*PathError)},
		{"mount without type", Spec{Mounts: []Mount{{Source: "x", Target: "/x"}}}, nil, new(*MountError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, want it to match %v", err, tc.is)
			}
			if tc.as != nil && !errors.As(err, tc.as) {
				t.Errorf("got %T, want %T", err, tc.as)
			}
		})
	}
	good := Spec{Defaults: true, Binds: []Bind{{Source: "/tmp", Target: "/work", ReadOnly: true, Propagation: RSlave}},
		Tmpfs:  []Tmpfs{{Target: "/run", Size: "64m", Mode: 0o755, Options: []string{"nosuid", "uid=1000"}}},
		Masked: DefaultMasked, ReadOnly: DefaultReadOnly, RootPropagation: Slave}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	var me *MountError
	bad := Spec{Binds: []Bind{{Source: "/nonexistent/paddock", Target: "/x"}}}
	err := bad.Validate()
	if errors.As(err, &me); me == nil || me.Source != "/nonexistent/paddock" || me.Target != "/x" {
		t.Errorf("MountError does not name the bind: %v", err)
	}
}

func TestTmpfsOptions(t *testing.T) {
	f, d, err := Tmpfs{Target: "/run", Size: "64m", Mode: 0o755, Options: []string{"nosuid", "nodev", "ro", "uid=1000"}}.flagsData()
	if err != nil {
		t.Fatal(err)
	}
	if f != unix.MS_NOSUID|unix.MS_NODEV|unix.MS_RDONLY || d != "mode=0755,size=64m,uid=1000" {
		t.Errorf("got %#x %q", f, d)
	}
	f, d, _ = Tmpfs{Target: "/tmp"}.flagsData()
	if f != unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC || d != "mode=01777" {
		t.Errorf("default tmpfs: got %#x %q", f, d)
	}
}

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

// TestCompile checks the steps Compile emits: every mount point is an in-root step
// that resolves its path from a descriptor of the root, in the order the kernel
// needs, with the right sources, flags and creation.
func TestCompile(t *testing.T) {
	spec := Spec{
		Defaults: true,
		Binds:    []Bind{{Source: "/etc/hostname", Target: "/etc/hostname", ReadOnly: true}, {Source: "/usr", Target: "/host/usr", ReadOnly: true, Recursive: true}},
		Tmpfs:    []Tmpfs{{Target: "/tmp"}},
		Masked:   DefaultMasked, ReadOnly: DefaultReadOnly, ReadonlyRoot: true,
	}
	const root = "/staging/root"
	for _, tc := range []struct {
		name string
		env  Env
	}{
		{"rootful", Env{NewRoot: root, NewNetNS: true, NewPIDNS: true, NewIPCNS: true}},
		{"rootless", Env{NewRoot: root, InUserNS: true, NewPIDNS: true}},
		{"privileged", Env{NewRoot: root, Privileged: true, NewPIDNS: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p child.Program
			if err := CompilePropagation(spec, &p); err != nil {
				t.Fatal(err)
			}
			if err := Compile(spec, tc.env, &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Ops) != len(p.Steps) {
				t.Fatalf("%d ops but %d steps", len(p.Ops), len(p.Steps))
			}
			checkCompiled(t, &p, tc.env)
		})
	}

	var p child.Program
	if err := Compile(Spec{Chroot: true}, Env{NewRoot: root}, &p); err != nil {
		t.Fatal(err)
	}
	v := view(&p)
	if find(v, func(o opView) bool { return o.trap == unix.SYS_PIVOT_ROOT }) >= 0 || find(v, func(o opView) bool { return o.trap == unix.SYS_CHROOT }) < 0 {
		t.Errorf("Chroot: %v", p.Steps)
	}
	if err := Compile(Spec{Binds: []Bind{{Source: "x", Target: "/x"}}}, Env{}, &p); !errors.Is(err, ErrInvalid) {
		t.Errorf("Compile of an invalid spec: %v", err)
	}
}

func checkCompiled(t *testing.T, p *child.Program, env Env) {
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

func masks(t *testing.T, p *child.Program, v []opView, env Env, pivot int) {
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

func TestInspectSelf(t *testing.T) {
	info, err := Inspect(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Mounts) == 0 {
		t.Fatal("empty mount table")
	}
	if find2(info.HostVisible, "/") < 0 {
		t.Errorf("the host's own root is not reported host-visible: %v", info.HostVisible)
	}
}

func find2(h []HostMount, mp string) int {
	for i, m := range h {
		if m.Mountpoint == mp {
			return i
		}
	}
	return -1
}

// TestInspectMasked masks and write-protects paths in a private mount namespace of
// a shell and checks that Inspect sees it.
func TestInspectMasked(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting in a new mount namespace without a user namespace needs root")
	}
	script := `set -e
mount --make-rprivate /
mount --bind /dev/null /proc/keys
mount -t tmpfs -o ro tmpfs /proc/scsi 2>/dev/null || mount -t tmpfs -o ro tmpfs /proc/acpi
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
echo ready
exec sleep 60`
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("setup failed: %q", line)
	}
	info, err := Inspect(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(info.Masked, "/proc/keys") || slices.Contains(info.Unmasked, "/proc/keys") {
		t.Errorf("/proc/keys: masked %v, unmasked %v", info.Masked, info.Unmasked)
	}
	if !slices.Contains(info.Masked, "/proc/scsi") && !slices.Contains(info.Masked, "/proc/acpi") {
		t.Errorf("no tmpfs mask seen: masked %v", info.Masked)
	}
	if !slices.Contains(info.ReadOnly, "/proc/sys") || !slices.Contains(info.Writable, "/proc/irq") {
		t.Errorf("read-only %v, writable %v", info.ReadOnly, info.Writable)
	}
	if find2(info.HostVisible, "/") < 0 {
		t.Errorf("the shared root is not host-visible: %v", info.HostVisible)
	}
}
