package oci_test

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestConvertFineResources converts each finer cgroup setting: where this host
// (and caller) can have it, into the Spec's Resources; where it cannot (a
// controller not mounted, a v1 setting on a v2 host or the reverse, cgroup v1
// for an unprivileged caller), into a *FieldError naming the configuration's
// field, matching sandbox.ErrNotSupported, with the reason cgroup.CheckHost
// gives.
func TestConvertFineResources(t *testing.T) { testutil.Modes(t, convertFineResources) }

func convertFineResources(t *testing.T) {
	swappiness := uint64(10)
	for _, c := range []struct {
		name  string
		res   specs.LinuxResources
		want  cgroup.Resources
		field string
	}{
		{"reservation", specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: ptr(int64(64 << 20))}},
			cgroup.Resources{MemoryReservation: 64 << 20}, "linux.resources.memory.reservation"},
		{"swappiness", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(swappiness)}},
			cgroup.Resources{MemorySwappiness: &swappiness}, "linux.resources.memory.swappiness"},
		{"disableOOMKiller", specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(true)}},
			cgroup.Resources{DisableOOMKiller: true}, "linux.resources.memory.disableOOMKiller"},
		{"realtime", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: ptr(uint64(100000)), RealtimeRuntime: ptr(int64(1000))}},
			cgroup.Resources{CPURealtimePeriod: 100000, CPURealtimeRuntime: 1000}, "linux.resources.cpu.realtimeRuntime"},
		{"burst", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(50000)), Burst: ptr(uint64(20000))}},
			cgroup.Resources{CPUQuota: 50000, CPUBurst: 20000}, "linux.resources.cpu.burst"},
		{"idle", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr(int64(1))}}, cgroup.Resources{CPUIdle: ptr(int64(1))}, "linux.resources.cpu.idle"},
		{"mems", specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "0"}}, cgroup.Resources{CpusetMems: "0"}, "linux.resources.cpu.mems"},
		{"classID", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001))}},
			cgroup.Resources{NetClassID: 0x100001}, "linux.resources.network.classID"},
		{"priorities", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 3}}}},
			cgroup.Resources{Lists: &cgroup.Lists{NetPriorities: []cgroup.NetPriority{{Interface: "lo", Priority: 3}}}}, "linux.resources.network.priorities"},
		{"hugepages", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
			cgroup.Resources{Lists: &cgroup.Lists{Hugetlb: []cgroup.HugepageLimit{{PageSize: "2MB", Limit: 4 << 20}}}}, "linux.resources.hugepageLimits"},
		{"rdma", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx4_0": {HcaHandles: ptr(uint32(2))}}},
			cgroup.Resources{Lists: &cgroup.Lists{Rdma: []cgroup.RdmaLimit{{Device: "mlx4_0", HcaHandles: ptr(uint32(2))}}}}, "linux.resources.rdma"},
		{"throttle", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{Rate: 1 << 20}}}},
			cgroup.Resources{Lists: &cgroup.Lists{ThrottleReadBps: []cgroup.DeviceLimit{{Value: 1 << 20}}}}, "linux.resources.blockIO.throttleReadBpsDevice"},
		{"weightDevice", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{Weight: ptr(uint16(300))}}}},
			cgroup.Resources{Lists: &cgroup.Lists{WeightDevice: []cgroup.DeviceLimit{{Value: 300}}}}, "linux.resources.blockIO.weightDevice"},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "100000000"}},
			cgroup.Resources{Lists: &cgroup.Lists{Unified: map[string]string{"memory.high": "100000000"}}}, "linux.resources.unified"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, bundle := base(t)
			r := c.res
			cfg.Linux.Resources = &r
			s, _, err := oci.Convert(cfg, bundle)
			var ue *cgroup.UnsupportedError
			if host := c.want.CheckHost(os.Geteuid()); errors.As(host, &ue) {
				var fe *oci.FieldError
				if !errors.As(err, &fe) || !errors.Is(err, sandbox.ErrNotSupported) || !strings.HasPrefix(fe.Field, c.field) || !errors.As(err, &ue) {
					t.Fatalf("Convert: %v; want a *FieldError of %s matching ErrNotSupported, as this host lacks it: %v", err, c.field, host)
				}
				t.Logf("refused here: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if got := s.Cgroup.Resources; got == nil || !reflect.DeepEqual(*got, c.want) {
				t.Fatalf("resources %+v, want %+v", got, c.want)
			}
		})
	}
}
