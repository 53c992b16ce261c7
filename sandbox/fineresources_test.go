package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestFineResources builds a sandbox with each finer cgroup setting and reads
// the cgroup file it writes while the sandbox runs, as root; where this host
// lacks the setting (a controller not mounted, a v1 setting on a v2 host or
// the reverse) and as uid 65534 on cgroup v1, Build refuses it with an
// *cgroup.UnsupportedError naming the field, matching ErrNotSupported.
func TestFineResources(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		seven, one := uint64(7), int64(1)
		major, minor := blockDevice(t)
		for _, c := range []struct {
			name     string
			r        cgroup.Resources
			ctrl     string
			v1, v2   string // the file each version has, "" for none
			contains string
		}{
			{"reservation", cgroup.Resources{MemoryReservation: 64 << 20}, "memory", "memory.soft_limit_in_bytes", "memory.low", "67108864"},
			{"swappiness", cgroup.Resources{MemorySwappiness: &seven}, "memory", "memory.swappiness", "", "7"},
			{"disableOOMKiller", cgroup.Resources{DisableOOMKiller: true}, "memory", "memory.oom_control", "", "oom_kill_disable 1"},
			{"realtime period", cgroup.Resources{CPURealtimePeriod: 50000}, "cpu", "cpu.rt_period_us", "", "50000"},
			{"burst", cgroup.Resources{CPUQuota: 50000, CPUBurst: 20000}, "cpu", "cpu.cfs_burst_us", "cpu.max.burst", "20000"},
			{"idle", cgroup.Resources{CPUIdle: &one}, "cpu", "cpu.idle", "cpu.idle", "1"},
			{"mems", cgroup.Resources{CpusetMems: "0"}, "cpuset", "cpuset.mems", "cpuset.mems", "0"},
			{"classID", cgroup.Resources{NetClassID: 0x100001}, "net_cls", "net_cls.classid", "", "1048577"},
			{"priorities", cgroup.Resources{Lists: &cgroup.Lists{NetPriorities: []cgroup.NetPriority{{Interface: "lo", Priority: 3}}}},
				"net_prio", "net_prio.ifpriomap", "", "lo 3"},
			{"hugetlb", cgroup.Resources{Lists: &cgroup.Lists{Hugetlb: []cgroup.HugepageLimit{{PageSize: "2MB", Limit: 4 << 20}}}},
				"hugetlb", "hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.max", "4194304"},
			{"throttle", cgroup.Resources{Lists: &cgroup.Lists{ThrottleWriteIOPS: []cgroup.DeviceLimit{{Major: major, Minor: minor, Value: 100}}}},
				"blkio", "blkio.throttle.write_iops_device", "io.max", fmt.Sprintf("%d:%d", major, minor)},
			{"weightDevice", cgroup.Resources{Lists: &cgroup.Lists{WeightDevice: []cgroup.DeviceLimit{{Major: major, Minor: minor, Value: 300}}}},
				"blkio", "blkio.weight_device", "io.weight", fmt.Sprintf("%d:%d 300", major, minor)},
			{"unified", cgroup.Resources{Lists: &cgroup.Lists{Unified: map[string]string{"memory.high": "104857600"}}},
				"memory", "", "memory.high", "104857600"},
		} {
			t.Run(c.name, func(t *testing.T) { fineResource(t, c.r, c.ctrl, c.v1, c.v2, c.contains) })
		}
	})
}

// blockDevice returns the device number of a disk of the host, for the
// per-device limits.
func blockDevice(t *testing.T) (major, minor int64) {
	devs, _ := filepath.Glob("/sys/block/*/dev")
	for _, d := range devs {
		b, err := os.ReadFile(d)
		if err != nil || strings.Contains(d, "/loop") {
			continue
		}
		if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &major, &minor); err == nil {
			return major, minor
		}
	}
	t.Skip("no block device in /sys/block for the per-device limits")
	return 0, 0
}

// fineResource runs a sandbox with r and checks that the cgroup file v1 or v2
// of controller ctrl holds want, or that Build refuses r as this host does.
func fineResource(t *testing.T, r cgroup.Resources, ctrl, v1, v2, want string) {
	if cgroup.Detect() == cgroup.Unavailable {
		t.Skip("no cgroup filesystem is mounted")
	}
	tpl, err := sandbox.NewBuilder(sandbox.WithResources(r)).Build()
	if host := r.CheckHost(os.Geteuid()); host != nil {
		var ue *cgroup.UnsupportedError
		if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &ue) || !errors.As(host, &ue) {
			t.Fatalf("Build: %v; want the refusal %v", err, host)
		}
		t.Logf("refused here, as expected: %v", err)
		return
	}
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	if p, err := tpl.Spec().Plan(); err != nil || p.Cgroup.Resources == nil || !reflect.DeepEqual(*p.Cgroup.Resources, r) {
		t.Errorf("the Plan's resources: %+v, %v; want %+v", p.Cgroup.Resources, err, r)
	}
	stdin, hold, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sh", "-c", "read x"}, Stdin: stdin})
	stdin.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Wait()
	defer hold.Close()
	m, err := cgroup.ReadMembership(p.Pid())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("/sys/fs/cgroup", ctrl, m.V1[ctrl], v1)
	if cgroup.Detect() == cgroup.V2 {
		file = filepath.Join("/sys/fs/cgroup", m.V2, v2)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), want) {
		t.Fatalf("%s holds %q, want %q", file, got, want)
	}
}
