package oci

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// fineMemory sets the memory reservation, swappiness and OOM killer switch.
func fineMemory(r *specs.LinuxResources, res *cgroup.Resources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	if m.Reservation != nil {
		if *m.Reservation < -1 {
			return invalid("linux.resources.memory.reservation", "%d is neither a limit nor -1 (unlimited)", *m.Reservation)
		}
		if *m.Reservation > 0 {
			res.MemoryReservation = *m.Reservation
		}
	}
	if m.Swappiness != nil {
		v := *m.Swappiness
		res.MemorySwappiness = &v
	}
	if m.DisableOOMKiller != nil {
		res.DisableOOMKiller = *m.DisableOOMKiller
	}
	return nil
}

// fineCPU sets the realtime bandwidth, the burst, the idle weight and the
// memory nodes.
func fineCPU(r *specs.LinuxResources, res *cgroup.Resources) error {
	p := r.CPU
	if p == nil {
		return nil
	}
	if p.RealtimeRuntime != nil {
		res.CPURealtimeRuntime = *p.RealtimeRuntime
	}
	if p.RealtimePeriod != nil {
		res.CPURealtimePeriod = *p.RealtimePeriod
	}
	if p.Burst != nil {
		res.CPUBurst = *p.Burst
	}
	if p.Idle != nil {
		v := *p.Idle
		res.CPUIdle = &v
	}
	res.CpusetMems = p.Mems
	return nil
}

// lists sets the huge page, network, RDMA and unified settings.
func lists(r *specs.LinuxResources, res *cgroup.Resources) error {
	l := &cgroup.Lists{}
	for _, h := range r.HugepageLimits {
		l.Hugetlb = append(l.Hugetlb, cgroup.HugepageLimit{PageSize: h.Pagesize, Limit: h.Limit})
	}
	if n := r.Network; n != nil {
		if n.ClassID != nil {
			res.NetClassID = *n.ClassID
		}
		for _, p := range n.Priorities {
			l.NetPriorities = append(l.NetPriorities, cgroup.NetPriority{Interface: p.Name, Priority: p.Priority})
		}
	}
	devs := make([]string, 0, len(r.Rdma))
	for d := range r.Rdma {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, d := range devs {
		l.Rdma = append(l.Rdma, cgroup.RdmaLimit{Device: d, HcaHandles: r.Rdma[d].HcaHandles, HcaObjects: r.Rdma[d].HcaObjects})
	}
	if len(r.Unified) > 0 {
		l.Unified = r.Unified
	}
	if len(l.Hugetlb)+len(l.NetPriorities)+len(l.Rdma)+len(l.Unified) > 0 {
		res.Lists = l
	}
	return nil
}

// fineBlockIO sets the block I/O weights and throttles of single devices.
func fineBlockIO(r *specs.LinuxResources, res *cgroup.Resources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	l := res.Lists
	if l == nil {
		l = &cgroup.Lists{}
	}
	for i, d := range b.WeightDevice {
		if d.LeafWeight != nil {
			return unsupported(fmt.Sprintf("linux.resources.blockIO.weightDevice[%d].leafWeight", i), "a Spec has no leaf weight, which only CFQ had")
		}
		if d.Weight != nil {
			l.WeightDevice = append(l.WeightDevice, cgroup.DeviceLimit{Major: d.Major, Minor: d.Minor, Value: uint64(*d.Weight)})
		}
	}
	for _, t := range []struct {
		from []specs.LinuxThrottleDevice
		to   *[]cgroup.DeviceLimit
	}{
		{b.ThrottleReadBpsDevice, &l.ThrottleReadBps}, {b.ThrottleWriteBpsDevice, &l.ThrottleWriteBps},
		{b.ThrottleReadIOPSDevice, &l.ThrottleReadIOPS}, {b.ThrottleWriteIOPSDevice, &l.ThrottleWriteIOPS},
	} {
		for _, d := range t.from {
			*t.to = append(*t.to, cgroup.DeviceLimit{Major: d.Major, Minor: d.Minor, Value: d.Rate})
		}
	}
	if res.Lists == nil && (len(l.WeightDevice)+len(l.ThrottleReadBps)+len(l.ThrottleWriteBps)+len(l.ThrottleReadIOPS)+len(l.ThrottleWriteIOPS) > 0) {
		res.Lists = l
	}
	return nil
}

// fineFields are the configuration's fields of the finer settings of a
// cgroup.Resources, by the name cgroup's errors give them.
var fineFields = map[string]string{
	"memoryReservation": "memory.reservation", "memorySwappiness": "memory.swappiness",
	"disableOOMKiller": "memory.disableOOMKiller", "cpuRealtimeRuntime": "cpu.realtimeRuntime",
	"cpuRealtimePeriod": "cpu.realtimePeriod", "cpuBurst": "cpu.burst", "cpuIdle": "cpu.idle", "cpusetMems": "cpu.mems", "netClassID": "network.classID",
	"netPriorities": "network.priorities", "hugetlb": "hugepageLimits", "rdma": "rdma", "unified": "unified",
	"weightDevice": "blockIO.weightDevice", "throttleReadBps": "blockIO.throttleReadBpsDevice",
	"throttleWriteBps": "blockIO.throttleWriteBpsDevice", "throttleReadIOPS": "blockIO.throttleReadIOPSDevice",
	"throttleWriteIOPS": "blockIO.throttleWriteIOPSDevice",
}

// checkFine checks the finer settings, as Build will, so that what is wrong or
// what this host cannot have fails naming the configuration's field: the
// values, then the host (the controller each needs, the version of the host's
// cgroups: unified files only on v2, net_cls, net_prio, swappiness, the OOM
// killer switch and realtime bandwidth only on v1).
func checkFine(r *specs.LinuxResources, res *cgroup.Resources) error {
	var re *cgroup.ResourceError
	if err := res.Validate(); errors.As(err, &re) {
		if f, ok := ociField(re.Field); ok {
			return invalidErr(f, err)
		}
	}
	var ue *cgroup.UnsupportedError
	if err := res.CheckHost(os.Geteuid()); errors.As(err, &ue) {
		if f, ok := ociField(ue.Field); ok {
			return unsupportedErr(f, err)
		}
		return unsupportedErr("linux.resources", err)
	} else if err != nil {
		return unsupportedErr("linux.resources", err)
	}
	return nil
}

// unsupportedErr reports field as something this host cannot have, because of
// err.
func unsupportedErr(field string, err error) error {
	return &FieldError{Field: field, Err: fmt.Errorf("%w: %w", sandbox.ErrNotSupported, err)}
}

// ociField returns the configuration's field of a cgroup.Resources field
// ("hugetlb[1].pageSize", "unified.memory.high"), and whether it is one of
// the finer settings.
func ociField(field string) (string, bool) {
	head, rest := field, ""
	if i := strings.IndexAny(field, "[."); i >= 0 {
		head, rest = field[:i], field[i:]
	}
	f, ok := fineFields[head]
	return "linux.resources." + f + rest, ok
}
