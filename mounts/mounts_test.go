package mounts

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDefaultMountsExact(t *testing.T) {
	// facts.md: moby's defaults, with cgroup2 where the host has it.
	want := []Mount{
		{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, "", "", false},
		{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k", "", false},
		{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", "", false},
		{"shm", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, "mode=1777,size=65536k", "", false},
		{"mqueue", "/dev/mqueue", "mqueue", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, "", "", false},
		{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, "", "", false},
		{"cgroup", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, "", "", false},
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
		{"relative mask", Spec{Masked: []string{"proc/kcore"}}, nil, nil},
		{"relative read-only", Spec{ReadOnly: []string{"proc/sys"}}, nil, nil},
		{"bad root propagation", Spec{RootPropagation: "unbindable"}, nil, nil},
		{"tmpfs bad size", Spec{Tmpfs: []Tmpfs{{Target: "/tmp", Size: "64q"}}}, nil, new(*MountError)},
		{"tmpfs bad mode", Spec{Tmpfs: []Tmpfs{{Target: "/tmp", Mode: 0o17777}}}, nil, new(*MountError)},
		{"mount without type", Spec{Mounts: []Mount{{Source: "x", Target: "/x"}}}, nil, new(*MountError)},
		{"relative symlink path", Spec{Symlinks: []Symlink{{Path: "dev/fd", Value: "/proc/self/fd"}}}, nil, nil},
		{"symlink without value", Spec{Symlinks: []Symlink{{Path: "/dev/fd"}}}, nil, nil},
		{"symlink at the root", Spec{Symlinks: []Symlink{{Path: "/", Value: "x"}}}, nil, nil},
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
		Masked: DefaultMasked, ReadOnly: DefaultReadOnly, RootPropagation: Slave, Symlinks: DefaultSymlinks}
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

// TestPlanSteps: Plan's steps are plain data that print as JSON, each with its
// stage and description, the flags spelled out, in the child's order.
func TestPlanSteps(t *testing.T) {
	spec := Spec{Defaults: true, Binds: []Bind{{Source: "/usr", Target: "/host/usr", ReadOnly: true, Recursive: true}},
		Masked: []string{"/proc/kcore"}, ReadonlyRoot: true}
	steps, err := Plan(spec, Env{NewRoot: "/staging/root", NewPIDNS: true, NewNetNS: true, NewIPCNS: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(steps)
	if err != nil {
		t.Fatal(err)
	}
	var back []Step
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, steps) {
		t.Fatalf("the steps do not survive JSON: %v\n%s", err, b)
	}
	var actions []Action
	for _, st := range steps {
		if st.Stage != "mount" || st.What == "" {
			t.Errorf("step %+v lacks its stage or description", st)
		}
		actions = append(actions, st.Action)
		if st.Action == ActBind && st.Path == "/host/usr" && (st.FlagText != "ro,bind,rec" || !st.InRoot || st.Create != CreateDir) {
			t.Errorf("read-only recursive bind: %+v", st)
		}
	}
	i := slices.Index(actions, ActPivotRoot)
	if actions[0] != ActOpenRoot || i < 0 || actions[i-1] != ActChdir || actions[i+1] != ActDetach ||
		slices.Index(actions, ActMask) < i || actions[len(actions)-1] != ActSetAttr {
		t.Errorf("order: %v", actions)
	}
	if st, err := PlanPropagation(Spec{RootPropagation: Slave}); err != nil || st.Action != ActPropagation || st.InRoot || st.FlagText != "rslave" {
		t.Errorf("PlanPropagation(slave) = %+v, %v", st, err)
	}
}

// TestPlanSymlinks: the Spec's own links come after its own mounts (so that a
// tmpfs on /dev holds them) and before pivot_root, each in the root, its
// parents made, an existing path left alone.
func TestPlanSymlinks(t *testing.T) {
	spec := Spec{Tmpfs: []Tmpfs{{Target: "/dev"}}, Symlinks: []Symlink{{Path: "/dev/fd", Value: "/proc/self/fd"}}}
	steps, err := Plan(spec, Env{NewRoot: "/staging/root"})
	if err != nil {
		t.Fatal(err)
	}
	tmpfs, link, pivot := -1, -1, -1
	for i, st := range steps {
		switch {
		case st.Path == "/dev" && st.Action == ActMount:
			tmpfs = i
		case st.Action == ActSymlink:
			link = i
			if st.Path != "/dev/fd" || st.Source != "/proc/self/fd" || !st.InRoot || st.Create != CreateParent || !st.IgnoreExist {
				t.Errorf("symlink step: %+v", st)
			}
		case st.Action == ActPivotRoot:
			pivot = i
		}
	}
	if tmpfs < 0 || link < tmpfs || pivot < link {
		t.Errorf("tmpfs at %d, link at %d, pivot_root at %d", tmpfs, link, pivot)
	}
}
