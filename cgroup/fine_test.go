package cgroup

import (
	"errors"
	"testing"
)

func TestFineValidate(t *testing.T) {
	big, one := uint64(101), uint32(1)
	for _, c := range []struct {
		r     Resources
		field string
	}{
		{Resources{MemoryReservation: -1}, "memoryReservation"},
		{Resources{MemorySwappiness: &big}, "memorySwappiness"},
		{Resources{CPURealtimeRuntime: -2}, "cpuRealtimeRuntime"},
		{Resources{CPURealtimeRuntime: 2000, CPURealtimePeriod: 1000}, "cpuRealtimeRuntime"},
		{Resources{CpusetMems: "1-0"}, "cpusetMems"},
		{Resources{CPUBurst: 1000}, "cpuBurst"},
		{Resources{Lists: &Lists{WeightDevice: []DeviceLimit{{Major: 8, Value: 5}}}}, "weightDevice[0]"},
		{Resources{Lists: &Lists{ThrottleReadBps: []DeviceLimit{{Major: -1, Value: 5}}}}, "throttleReadBps[0]"},
		{Resources{Lists: &Lists{Hugetlb: []HugepageLimit{{PageSize: "2M"}}}}, "hugetlb[0].pageSize"},
		{Resources{Lists: &Lists{NetPriorities: []NetPriority{{Interface: "a b"}}}}, "netPriorities[0].interface"},
		{Resources{Lists: &Lists{Rdma: []RdmaLimit{{Device: "mlx"}}}}, "rdma[0]"},
		{Resources{Lists: &Lists{Rdma: []RdmaLimit{{Device: "a=b", HcaHandles: &one}}}}, "rdma[0].device"},
		{Resources{Lists: &Lists{Unified: map[string]string{"cgroup.procs": "1"}}}, "unified"},
		{Resources{Lists: &Lists{Unified: map[string]string{"../memory.max": "1"}}}, "unified"},
		{Resources{Lists: &Lists{Unified: map[string]string{"memory.max": "1\x00"}}}, "unified.memory.max"},
	} {
		err := c.r.Validate()
		var re *ResourceError
		if !errors.As(err, &re) || re.Field != c.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want a *ResourceError of %s", c.r, err, c.field)
		}
	}
	ok := Resources{CPURealtimeRuntime: -1, CpusetMems: "0", Lists: &Lists{Hugetlb: []HugepageLimit{{PageSize: "2MB", Limit: 1}},
		Unified: map[string]string{"memory.high": "max", "io.weight": "default 100"}}}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

func TestFineCloneAndZero(t *testing.T) {
	if r := (&Resources{Lists: &Lists{}}); !r.IsZero() {
		t.Error("empty lists are not zero")
	}
	s := uint64(3)
	r := &Resources{MemorySwappiness: &s, Lists: &Lists{Unified: map[string]string{"memory.high": "1"}, Hugetlb: []HugepageLimit{{PageSize: "2MB"}}}}
	c := r.Clone()
	*c.MemorySwappiness, c.Lists.Unified["memory.high"], c.Lists.Hugetlb[0].Limit = 4, "2", 9
	if s != 3 || r.Lists.Unified["memory.high"] != "1" || r.Lists.Hugetlb[0].Limit != 0 {
		t.Errorf("the clone shares memory with the original: %+v %+v", r, r.Lists)
	}
	if got := r.fineWanted(); len(got) != 2 || got[0] != "hugetlb" || got[1] != "memory" {
		t.Errorf("controllers wanted: %v", got)
	}
}
