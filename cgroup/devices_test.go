package cgroup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

func TestDeviceEnforcementValidate(t *testing.T) {
	for _, e := range []DeviceEnforcement{DevicesAuto, DevicesProgram, DevicesBoth} {
		if err := (&Spec{DeviceEnforcement: e}).Validate(); err != nil {
			t.Errorf("%v: %v", e, err)
		}
	}
	err := (&Spec{DeviceEnforcement: "ebpf"}).Validate()
	var re *ResourceError
	if !errors.As(err, &re) || re.Field != "deviceEnforcement" || !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate of an unknown enforcement: %v, want a ResourceError on deviceEnforcement", err)
	}
}

func TestDeviceMechanisms(t *testing.T) {
	tests := []struct {
		e                    DeviceEnforcement
		haveCtrl, haveUnif   bool
		ctrl, prog, unsuppor bool
	}{
		{DevicesAuto, true, true, true, false, false},
		{DevicesAuto, true, false, true, false, false},
		{DevicesAuto, false, true, false, true, false},
		{DevicesAuto, false, false, false, false, true},
		{DevicesProgram, true, true, false, true, false},
		{DevicesProgram, true, false, false, false, true},
		{DevicesBoth, true, true, true, true, false},
		{DevicesBoth, false, true, false, false, true},
		{DevicesBoth, true, false, false, false, true},
	}
	for _, tt := range tests {
		ctrl, prog, err := deviceMechanisms(tt.e, tt.haveCtrl, tt.haveUnif)
		if ctrl != tt.ctrl || prog != tt.prog || errors.Is(err, ErrNotSupported) != tt.unsuppor {
			t.Errorf("%v ctrl=%v unified=%v: got %v %v %v", tt.e, tt.haveCtrl, tt.haveUnif, ctrl, prog, err)
		}
	}
}

// requireDeviceProgram skips unless the caller can create cgroups with a unified
// directory to attach a device program to.
func requireDeviceProgram(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading a device program needs root")
	}
	if m := Detect(); m != Hybrid && m != V2 {
		t.Skipf("a unified hierarchy to attach a device program to: host mode is %v", m)
	}
	if l, err := loadLayout(); err != nil || l.v2 == nil {
		t.Skip("the unified hierarchy is not mounted")
	}
}

// attachedPrograms returns how many BPF_CGROUP_DEVICE programs are attached to dir
// itself (not inherited).
func attachedPrograms(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	res, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatalf("query device programs of %s: %v", dir, err)
	}
	return len(res.Programs)
}

// blockControl skips when opening a block device 8:0 already fails with EPERM
// outside any sandbox cgroup (it should fail for lack of a driver, or succeed).
func blockControl(t *testing.T, dir string) {
	t.Helper()
	node := filepath.Join(dir, "control")
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(8, 0))); err != nil {
		t.Skipf("mknod of a block device here: %v", err)
	}
	defer os.Remove(node)
	if fd, err := unix.Open(node, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		unix.Close(fd)
	} else if err == unix.EPERM {
		t.Skip("the test's own cgroup already denies block devices")
	}
}

// runDeviceProbe re-executes the test binary as deviceProbe inside c (placed there
// before it does anything) and returns its output line. The probe is bounded by a
// timeout.
func runDeviceProbe(t *testing.T, c *Cgroup, dir string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), probeEnv+"="+probeDevice, "PROBE_DIR="+dir)
	out, err := runInCgroup(t, c, cmd)
	if err != nil {
		t.Fatalf("probe: %v, output %q", err, out)
	}
	return strings.TrimSpace(out)
}

// TestDeviceProgramOnly enforces the default rules with the device program alone:
// the v1 devices controller is not used (the probe stays in the test's own devices
// cgroup, which allows everything), yet opening a block device it created is
// refused while /dev/null opens.
func TestDeviceProgramOnly(t *testing.T) {
	requireDeviceProgram(t)
	dir := t.TempDir()
	blockControl(t, dir)

	spec := testSpec(t, nil)
	spec.DeviceEnforcement = DevicesProgram
	pl, err := NewPlanner(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	need := pl.Need()
	if !need.Devices || !need.DeviceProgram || slices.Contains(need.Controllers, "devices") {
		t.Fatalf("Need = %+v, want a device program and no devices controller", need)
	}
	c, err := pl.Create("prog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if d := c.Dir("devices"); d != "" {
		t.Errorf("a v1 devices cgroup was created: %s", d)
	}
	v2 := c.Dir("")
	if n := attachedPrograms(t, v2); n != 1 {
		t.Errorf("%d device programs attached to %s, want 1", n, v2)
	}
	if got, want := runDeviceProbe(t, c, dir), fmt.Sprintf("block=%d null=ok", int(unix.EPERM)); got != want {
		t.Errorf("probe: %q, want %q", got, want)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if exists(v2) {
		t.Errorf("%s remains", v2)
	}
}

// TestDeviceProgramAllowAll: a privileged spec attaches no program, whatever the
// enforcement, and the probe's open of a block device is not refused by a cgroup.
func TestDeviceProgramAllowAll(t *testing.T) {
	requireDeviceProgram(t)
	dir := t.TempDir()
	blockControl(t, dir)

	spec := testSpec(t, nil)
	spec.AllowAllDevices = true
	spec.DeviceEnforcement = DevicesProgram
	pl, err := NewPlanner(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if need := pl.Need(); need.Devices || need.DeviceProgram || slices.Contains(need.Controllers, "devices") {
		t.Fatalf("Need = %+v, want no device enforcement", need)
	}
	if pl.prog != nil {
		t.Error("the planner loaded a device program for a privileged spec")
	}
	c, err := pl.Create("all")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if n := attachedPrograms(t, c.Dir("")); n != 0 {
		t.Errorf("%d device programs attached, want none", n)
	}
	if got := runDeviceProbe(t, c, dir); strings.HasPrefix(got, fmt.Sprintf("block=%d ", int(unix.EPERM))) || !strings.HasSuffix(got, "null=ok") {
		t.Errorf("probe: %q, want the block device not refused with EPERM and null=ok", got)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

// TestDevicesBoth writes the v1 rules and attaches the program on a hybrid host.
func TestDevicesBoth(t *testing.T) {
	requireDeviceProgram(t)
	if Detect() != Hybrid {
		t.Skip("both mechanisms need a hybrid host")
	}
	dir := t.TempDir()
	blockControl(t, dir)
	spec := testSpec(t, nil)
	spec.DeviceEnforcement = DevicesBoth
	c := create(t, spec, "both")
	if c.Dir("devices") == "" {
		t.Fatal("no v1 devices cgroup")
	}
	if got := readTrim(t, filepath.Join(c.Dir("devices"), "devices.list")); strings.Contains(got, "a *:* rwm") {
		t.Errorf("devices.list still allows everything: %q", got)
	}
	if n := attachedPrograms(t, c.Dir("")); n != 1 {
		t.Errorf("%d device programs attached, want 1", n)
	}
	if got, want := runDeviceProbe(t, c, dir), fmt.Sprintf("block=%d null=ok", int(unix.EPERM)); got != want {
		t.Errorf("probe: %q, want %q", got, want)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

// TestPlannerClosed: a closed Planner with a device program creates nothing.
func TestPlannerClosed(t *testing.T) {
	requireDeviceProgram(t)
	spec := testSpec(t, nil)
	spec.DeviceEnforcement = DevicesProgram
	pl, err := NewPlanner(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := pl.Create("closed")
	if c != nil || !errors.Is(err, os.ErrClosed) || !strings.Contains(fmt.Sprint(err), "device program") {
		t.Errorf("Create after Close: %v, %v; want a device program error matching os.ErrClosed", c, err)
	}
}

// TestDeviceProgramPartialAccess: an allow rule granting read only lets a device be
// opened for reading, not for reading and writing (O_RDWR asks for both at once),
// as the v1 controller decides.
func TestDeviceProgramPartialAccess(t *testing.T) {
	requireDeviceProgram(t)
	spec := testSpec(t, nil)
	spec.DeviceEnforcement = DevicesProgram
	spec.Devices = []DeviceRule{
		{Type: "a"},
		{Allow: true, Type: "c", Major: 1, Minor: 3, Access: "r"}, // null
		{Allow: true, Type: "c", Major: 1, Minor: 5, Access: "w"}, // zero
	}
	c := create(t, spec, "partial")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := `read x
try() { if (exec 3<>"$2") 2>&-; then echo "$1 rw=ok"; else echo "$1 rw=denied"; fi
	if (exec 3<"$2") 2>&-; then echo "$1 r=ok"; else echo "$1 r=denied"; fi
	if (exec 3>"$2") 2>&-; then echo "$1 w=ok"; else echo "$1 w=denied"; fi; }
try null /dev/null; try zero /dev/zero`
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	out, err := runInCgroup(t, c, cmd)
	if err != nil {
		t.Fatalf("shell: %v: %s", err, out)
	}
	want := "null rw=denied\nnull r=ok\nnull w=denied\nzero rw=denied\nzero r=denied\nzero w=ok"
	if got := strings.TrimSpace(out); got != want {
		t.Errorf("opens:\n%s\nwant:\n%s", got, want)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}
