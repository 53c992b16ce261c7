package cgroup

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestResourcesValidate(t *testing.T) {
	tests := []struct {
		name  string
		r     Resources
		field string // "" for valid
	}{
		{"zero", Resources{}, ""},
		{"typical", Resources{Memory: 256 << 20, MemorySwap: 512 << 20, Pids: 100, CPUs: 1, Cpuset: "0", IOWeight: 500, CPUShares: 512}, ""},
		{"unlimited swap", Resources{Memory: 64 << 20, MemorySwap: -1}, ""},
		{"quota and period", Resources{CPUQuota: 50000, CPUPeriod: 100000, CPUWeight: 200}, ""},
		{"negative memory", Resources{Memory: -2}, "memory"},
		{"swap with unlimited memory", Resources{Memory: Unlimited, MemorySwap: 1 << 30}, "memorySwap"},
		{"memory below floor", Resources{Memory: 4 << 20}, "memory"},
		{"swap below -1", Resources{Memory: 64 << 20, MemorySwap: -2}, "memorySwap"},
		{"swap without memory", Resources{MemorySwap: 64 << 20}, "memorySwap"},
		{"swap below memory", Resources{Memory: 64 << 20, MemorySwap: 32 << 20}, "memorySwap"},
		{"unlimited pids", Resources{Pids: Unlimited}, ""},
		{"negative pids", Resources{Pids: -5}, "pids"},
		{"pids above kernel max", Resources{Pids: MaxPids + 1}, "pids"},
		{"negative quota", Resources{CPUQuota: -1}, "cpuQuota"},
		{"tiny quota", Resources{CPUQuota: 500}, "cpuQuota"},
		{"short period", Resources{CPUPeriod: 10}, "cpuPeriod"},
		{"long period", Resources{CPUPeriod: 2000000}, "cpuPeriod"},
		{"shares too small", Resources{CPUShares: 1}, "cpuShares"},
		{"weight too large", Resources{CPUWeight: 10001}, "cpuWeight"},
		{"shares and weight", Resources{CPUShares: 512, CPUWeight: 50}, "cpuWeight"},
		{"negative cpus", Resources{CPUs: -0.5}, "cpus"},
		{"too many cpus", Resources{CPUs: float64(runtime.NumCPU() + 1)}, "cpus"},
		{"cpus and quota", Resources{CPUs: 1, CPUQuota: 50000}, "cpus"},
		{"cpus too small", Resources{CPUs: 0.001}, "cpus"},
		{"cpuset offline", Resources{Cpuset: "0,4095"}, "cpuset"},
		{"cpuset syntax", Resources{Cpuset: "0-"}, "cpuset"},
		{"cpuset reversed", Resources{Cpuset: "1-0"}, "cpuset"},
		{"io weight low", Resources{IOWeight: 5}, "ioWeight"},
		{"io weight high", Resources{IOWeight: 2000}, "ioWeight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var re *ResourceError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want a *ResourceError matching ErrInvalid", err)
			}
			if re.Field != tt.field {
				t.Errorf("Field = %q, want %q (%v)", re.Field, tt.field, err)
			}
		})
	}
}

func TestSpecValidate(t *testing.T) {
	bad := []struct {
		spec  Spec
		field string
	}{
		{Spec{Parent: "/a/../b"}, "parent"},
		{Spec{Parent: "a//b"}, "parent"},
		{Spec{Parent: "../x"}, "parent"},
		{Spec{Devices: []DeviceRule{{Allow: true, Type: "x"}}}, "devices[0]"},
		{Spec{Devices: []DeviceRule{{Type: "a"}, {Allow: true, Type: "c", Major: 1, Minor: 3, Access: "rwx"}}}, "devices[1]"},
		{Spec{Devices: []DeviceRule{{Allow: true, Type: "b", Major: -2, Minor: 0, Access: "r"}}}, "devices[0]"},
		{Spec{Devices: []DeviceRule{{Allow: true, Type: "c", Major: 1, Minor: 1 << 32, Access: "r"}}}, "devices[0]"},
		{Spec{Resources: &Resources{Memory: 1}}, "memory"},
	}
	for _, tt := range bad {
		err := tt.spec.Validate()
		var re *ResourceError
		if !errors.As(err, &re) || re.Field != tt.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want field %s", tt.spec, err, tt.field)
		}
	}
	for _, s := range []Spec{{}, {Parent: "/paddock"}, {Parent: "sub/dir"}, {AllowAllDevices: true, Devices: []DeviceRule{{Type: "?"}}}} {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", s, err)
		}
	}
	if err := validName("a/b"); !errors.Is(err, ErrInvalid) {
		t.Errorf("validName(a/b) = %v", err)
	}
}

func TestDeviceRules(t *testing.T) {
	d := DefaultDevices()
	var lines []string
	for _, r := range d {
		lines = append(lines, r.String())
		if err := r.validate("x"); err != nil {
			t.Error(err)
		}
	}
	want := "a|c *:* m|b *:* m|c 1:3 rwm|c 1:5 rwm|c 1:7 rwm|c 1:8 rwm|c 1:9 rwm|c 5:0 rwm|c 5:1 rwm|c 5:2 rwm|c 136:* rwm"
	if got := strings.Join(lines, "|"); got != want {
		t.Errorf("DefaultDevices =\n%s\nwant\n%s", got, want)
	}
	if d[0].Allow {
		t.Error("the first default rule must deny everything")
	}
	s := Spec{}
	if len(s.DeviceRules()) != len(d) {
		t.Error("nil Devices does not mean DefaultDevices")
	}
	s.AllowAllDevices = true
	if s.DeviceRules() != nil {
		t.Error("AllowAllDevices still has rules")
	}
}

func TestSpecJSON(t *testing.T) {
	s := Spec{Parent: "/p", Resources: &Resources{Memory: 64 << 20, CPUs: 1.5, Cpuset: "0-1"}, Devices: DefaultDevices()}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("round trip: %+v != %+v", back, s)
	}
}

func TestParseCPUList(t *testing.T) {
	got, err := ParseCPUList("3,0-1,1\n")
	if err != nil || !reflect.DeepEqual(got, []int{0, 1, 3}) {
		t.Errorf("ParseCPUList = %v, %v", got, err)
	}
	for _, s := range []string{"a", "1-", "-1", "2-1", "0-999999"} {
		if _, err := ParseCPUList(s); err == nil {
			t.Errorf("ParseCPUList(%q) accepted", s)
		}
	}
}

func TestConversions(t *testing.T) {
	if w := sharesToWeight(1024); w != 39 {
		t.Errorf("sharesToWeight(1024) = %d, want 39", w)
	}
	if sharesToWeight(2) != 1 || sharesToWeight(262144) != 10000 {
		t.Error("sharesToWeight bounds")
	}
	if weightToShares(1) != 2 || weightToShares(10000) != 262144 {
		t.Error("weightToShares bounds")
	}
	r := Resources{CPUs: 1.5}
	if q, p := r.cpuMax(); q != 150000 || p != DefaultCPUPeriod {
		t.Errorf("cpuMax(1.5 CPUs) = %d/%d", q, p)
	}
	r = Resources{CPUs: 0.5, CPUPeriod: 10000}
	if q, p := r.cpuMax(); q != 5000 || p != 10000 {
		t.Errorf("cpuMax(0.5 CPUs, 10 ms) = %d/%d", q, p)
	}
	for s, want := range map[string]int64{"max": -1, "9223372036854771712": -1, "-1": -1, "1024": 1024, "x": 0} {
		if got := parseLimit(s); got != want {
			t.Errorf("parseLimit(%q) = %d, want %d", s, got, want)
		}
	}
	for _, tt := range [][3]string{{"", "/u", "/u/paddock"}, {"/abs", "/u", "/abs"}, {"rel", "/u", "/u/rel"}} {
		if got := resolveParent(tt[0], tt[1]); got != tt[2] {
			t.Errorf("resolveParent(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

func TestErrors(t *testing.T) {
	fe := fileError("write", "/x", "1", unix.EACCES)
	if !errors.Is(fe, os.ErrPermission) || !errors.Is(fe, unix.EACCES) || errors.Is(fe, ErrInvalid) {
		t.Errorf("fileError matching: %v", fe)
	}
	if !strings.Contains(fe.Error(), `write "1" to /x`) {
		t.Errorf("fileError text: %s", fe)
	}
	if fe := fileError("read", "/x", "", unix.ENOENT); errors.Is(fe, os.ErrPermission) || !errors.Is(fe, unix.ENOENT) ||
		fe.Error() != "cgroup: read /x: no such file or directory" {
		t.Errorf("fileError of ENOENT: %v", fe)
	}
	ue := unsupported("f", "r")
	if !errors.Is(ue, ErrNotSupported) {
		t.Error("unsupported does not match ErrNotSupported")
	}
}

func TestPlan(t *testing.T) {
	mode := Detect()
	if mode == Unavailable {
		t.Skip("no cgroup filesystem mounted")
	}
	limits := &Spec{Resources: &Resources{Memory: 64 << 20}}
	if mode == V1 || mode == Hybrid {
		if _, err := Plan(limits, 1000); !errors.Is(err, ErrNotSupported) {
			t.Errorf("Plan(limits, uid 1000) = %v, want ErrNotSupported", err)
		}
		n, err := Plan(&Spec{}, 1000)
		if err != nil || n.Version != 0 || n.Reason == "" {
			t.Errorf("Plan(no limits, uid 1000) = %+v, %v; want Version 0 with a reason", n, err)
		}
		n, err = Plan(&Spec{Resources: &Resources{Pids: 10, CPUs: 1}}, 0)
		if err != nil || n.Version != 1 || !n.Devices {
			t.Fatalf("Plan(root) = %+v, %v", n, err)
		}
		for _, c := range []string{"pids", "cpu", "memory", "freezer", "devices"} {
			if !strings.Contains(strings.Join(n.Controllers, ","), c) {
				t.Errorf("Plan(root) controllers %v lack %s", n.Controllers, c)
			}
		}
		if n.Unified != (mode == Hybrid) {
			t.Errorf("Plan(root).Unified = %v on %v", n.Unified, mode)
		}
		n, _ = Plan(&Spec{AllowAllDevices: true}, 0)
		if n.Devices || strings.Contains(strings.Join(n.Controllers, ","), "devices") {
			t.Errorf("AllowAllDevices still plans the devices controller: %+v", n)
		}
		n, _ = Plan(&Spec{AllowAllDevices: true, Path: "/x"}, 0)
		if _, err := os.Stat("/sys/fs/cgroup/devices"); err == nil && (n.Devices || !strings.Contains(strings.Join(n.Controllers, ","), "devices")) {
			t.Errorf("an exact path without device rules is not in the devices hierarchy, or enforces rules: %+v", n)
		}
	}
	if _, err := Plan(&Spec{Resources: &Resources{Pids: -2}}, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Plan of an invalid spec = %v", err)
	}
}

const rootlessEnv = "PADDOCK_CGROUP_ROOTLESS"

// TestRootlessCreate runs Create as an unprivileged user (the test binary again,
// as nobody): asking for limits fails with ErrNotSupported on v1, asking for none
// gives a nil Cgroup whose methods do nothing.
func TestRootlessCreate(t *testing.T) {
	if os.Getenv(rootlessEnv) != "" {
		rootlessProbe(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("switching to an unprivileged user needs root")
	}
	if m := Detect(); m != V1 && m != Hybrid {
		t.Skipf("v1 rootless refusal: host mode is %v", m)
	}
	exe := unprivilegedCopy(t)
	cmd := exec.Command(exe, "-test.run=^TestRootlessCreate$", "-test.v")
	cmd.Env = append(os.Environ(), rootlessEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Errorf("rootless run: %v\n%s", err, out)
	}
}

func rootlessProbe(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Fatal("probe still runs as root")
	}
	_, err := Create(&Spec{Resources: &Resources{Memory: 64 << 20}}, "rootless")
	if !errors.Is(err, ErrNotSupported) {
		t.Errorf("Create with limits = %v, want an error matching ErrNotSupported", err)
	}
	c, err := Create(&Spec{}, "rootless")
	if err != nil || c != nil {
		t.Fatalf("Create without limits = %v, %v; want nil, nil", c, err)
	}
	if err := c.KillAll(); err != nil {
		t.Error(err)
	}
	if st, err := c.Stats(); err != nil || *st != (Stats{}) {
		t.Errorf("nil Stats = %+v, %v", st, err)
	}
	if _, ok := c.CloneFD(); ok {
		t.Error("nil Cgroup has a CloneFD")
	}
	if err := c.Remove(); err != nil {
		t.Error(err)
	}
}

// unprivilegedCopy copies the test binary where any user can execute it (the build
// directory is private to root) and returns its path.
func unprivilegedCopy(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "paddock-cgroup-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := dir + "/cgroup.test"
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}
