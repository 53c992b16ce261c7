package cgroup

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Limits of the values a Resources may hold.
const (
	// MinMemory is the smallest memory limit accepted: 6 MiB, Docker's floor, below
	// which a container cannot reliably start.
	MinMemory = 6 << 20
	// DefaultCPUPeriod is the CFS period used with CPUs or when CPUPeriod is 0: 100 ms.
	DefaultCPUPeriod = 100000
	// MinCPUPeriod and MaxCPUPeriod bound CPUPeriod (1 ms to 1 s), as the kernel does.
	MinCPUPeriod = 1000
	MaxCPUPeriod = 1000000
	// MinCPUQuota is the smallest CFS quota the kernel accepts: 1 ms.
	MinCPUQuota = 1000
	// MaxPids is the kernel's PID_MAX_LIMIT.
	MaxPids = 1 << 22
)

// Resources are the limits of a sandbox's cgroup. The zero value of every field
// means "not limited"; Resources is plain data that marshals to JSON.
type Resources struct {
	// Memory is the memory limit in bytes (at least MinMemory); Unlimited, like
	// 0, is no limit, and lets Update lift a limit set before (with the limit of
	// memory plus swap, unless MemorySwap says otherwise).
	Memory int64 `json:"memory,omitempty"`
	// MemorySwap is the limit of memory plus swap in bytes, as Docker's
	// --memory-swap: -1 is unlimited swap, 0 means the same as Memory (no swap), and
	// a positive value must be at least Memory.
	MemorySwap int64 `json:"memorySwap,omitempty"`
	// Pids is the maximum number of processes and threads; -1, like 0, is
	// unlimited (podman's --pids-limit -1), and lets a caller say so over a
	// default.
	Pids int64 `json:"pids,omitempty"`
	// CPUQuota is the CPU time in microseconds the group may use per CPUPeriod.
	CPUQuota int64 `json:"cpuQuota,omitempty"`
	// CPUPeriod is the CFS period in microseconds (DefaultCPUPeriod when 0).
	CPUPeriod uint64 `json:"cpuPeriod,omitempty"`
	// CPUShares is the v1 relative CPU weight (2 to 262144, 1024 is the default);
	// on v2 it is converted to a weight.
	CPUShares uint64 `json:"cpuShares,omitempty"`
	// CPUWeight is the v2 relative CPU weight (1 to 10000, 100 is the default); on v1
	// it is converted to shares.
	CPUWeight uint64 `json:"cpuWeight,omitempty"`
	// CPUs is a number of CPUs, as Docker's --cpus: it becomes a quota of
	// CPUs*CPUPeriod per period. It excludes CPUQuota.
	CPUs float64 `json:"cpus,omitempty"`
	// Cpuset lists the CPUs the group may run on, in the kernel's list format
	// ("0-2,4").
	Cpuset string `json:"cpuset,omitempty"`
	// IOWeight is the relative block I/O weight, 10 to 1000 (blkio.weight,
	// blkio.bfq.weight or io.weight).
	IOWeight uint16 `json:"ioWeight,omitempty"`

	// MemoryReservation is the soft limit in bytes that memory is reclaimed
	// down to under pressure (memory.soft_limit_in_bytes on v1, memory.low on
	// v2).
	MemoryReservation int64 `json:"memoryReservation,omitempty"`
	// MemorySwappiness is the group's swappiness, 0 to MaxSwappiness (v1 only).
	MemorySwappiness *uint64 `json:"memorySwappiness,omitempty"`
	// DisableOOMKiller pauses the group's tasks instead of killing one when it
	// runs out of memory (memory.oom_control, v1 only).
	DisableOOMKiller bool `json:"disableOOMKiller,omitempty"`
	// CPURealtimeRuntime and CPURealtimePeriod are the realtime bandwidth in
	// microseconds (cpu.rt_runtime_us and cpu.rt_period_us, v1 only); a runtime
	// of -1 is unlimited.
	CPURealtimeRuntime int64  `json:"cpuRealtimeRuntime,omitempty"`
	CPURealtimePeriod  uint64 `json:"cpuRealtimePeriod,omitempty"`
	// CPUBurst is the CPU time in microseconds that the group may bank beyond
	// its quota (cpu.cfs_burst_us on v1, cpu.max.burst on v2).
	CPUBurst uint64 `json:"cpuBurst,omitempty"`
	// CPUIdle set to 1 gives the group the SCHED_IDLE weight (cpu.idle); nil
	// leaves it.
	CPUIdle *int64 `json:"cpuIdle,omitempty"`
	// CpusetMems lists the memory nodes the group may use ("0-1").
	CpusetMems string `json:"cpusetMems,omitempty"`
	// NetClassID tags the group's packets with a class ID (net_cls.classid, v1
	// only).
	NetClassID uint32 `json:"netClassID,omitempty"`
	// Lists holds the huge page, network priority, RDMA and unified settings.
	Lists *Lists `json:"lists,omitempty"`
}

// Unlimited is the value of Pids and Memory that says "no limit" explicitly.
const Unlimited = -1

// IsZero reports whether r limits nothing.
func (r *Resources) IsZero() bool {
	if r == nil {
		return true
	}
	c := *r
	if c.Pids == Unlimited {
		c.Pids = 0
	}
	if c.Memory == Unlimited && c.MemorySwap <= 0 {
		c.Memory, c.MemorySwap = 0, 0
	}
	if c.Lists.empty() {
		c.Lists = nil
	}
	return c == Resources{}
}

// Validate checks every field against the kernel's rules and this host's CPUs. It
// returns a *ResourceError naming the first offending field.
func (r *Resources) Validate() error {
	if r == nil {
		return nil
	}
	bad := func(field string, v any, format string, args ...any) error {
		return &ResourceError{Field: field, Value: v, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Memory < Unlimited:
		return bad("memory", r.Memory, "negative (use -1 for unlimited)")
	case r.Memory == Unlimited && r.MemorySwap > 0:
		return bad("memorySwap", r.MemorySwap, "a limit of memory plus swap with unlimited memory")
	case r.Memory > 0 && r.Memory < MinMemory:
		return bad("memory", r.Memory, "below the minimum of %d bytes (6 MiB)", MinMemory)
	case r.MemorySwap < -1:
		return bad("memorySwap", r.MemorySwap, "negative (use -1 for unlimited)")
	case r.MemorySwap != 0 && r.Memory == 0:
		return bad("memorySwap", r.MemorySwap, "set without memory")
	case r.MemorySwap > 0 && r.MemorySwap < r.Memory:
		return bad("memorySwap", r.MemorySwap, "below memory %d (it counts memory plus swap)", r.Memory)
	case r.Pids < Unlimited:
		return bad("pids", r.Pids, "negative (use -1 or 0 for unlimited)")
	case r.Pids > MaxPids:
		return bad("pids", r.Pids, "above the kernel's maximum %d", MaxPids)
	case r.CPUQuota < 0:
		return bad("cpuQuota", r.CPUQuota, "negative")
	case r.CPUQuota > 0 && r.CPUQuota < MinCPUQuota:
		return bad("cpuQuota", r.CPUQuota, "below the kernel's minimum of %d µs", MinCPUQuota)
	case r.CPUPeriod != 0 && (r.CPUPeriod < MinCPUPeriod || r.CPUPeriod > MaxCPUPeriod):
		return bad("cpuPeriod", r.CPUPeriod, "outside %d to %d µs", MinCPUPeriod, MaxCPUPeriod)
	case r.CPUShares != 0 && (r.CPUShares < 2 || r.CPUShares > 262144):
		return bad("cpuShares", r.CPUShares, "outside 2 to 262144")
	case r.CPUWeight != 0 && r.CPUWeight > 10000:
		return bad("cpuWeight", r.CPUWeight, "outside 1 to 10000")
	case r.CPUShares != 0 && r.CPUWeight != 0:
		return bad("cpuWeight", r.CPUWeight, "set together with cpuShares %d", r.CPUShares)
	case r.CPUs < 0 || math.IsNaN(r.CPUs) || math.IsInf(r.CPUs, 0):
		return bad("cpus", r.CPUs, "not a positive number")
	case r.CPUs > float64(runtime.NumCPU()):
		return bad("cpus", r.CPUs, "more than the %d CPUs of this host", runtime.NumCPU())
	case r.CPUs > 0 && r.CPUQuota != 0:
		return bad("cpus", r.CPUs, "set together with cpuQuota %d", r.CPUQuota)
	case r.IOWeight != 0 && (r.IOWeight < 10 || r.IOWeight > 1000):
		return bad("ioWeight", r.IOWeight, "outside 10 to 1000")
	}
	if r.CPUs > 0 {
		if q, _ := r.cpuMax(); q < MinCPUQuota {
			return bad("cpus", r.CPUs, "gives a quota of %d µs, below the kernel's minimum of %d µs", q, MinCPUQuota)
		}
	}
	if err := r.validateFine(); err != nil {
		return err
	}
	if r.Cpuset != "" {
		cpus, err := ParseCPUList(r.Cpuset)
		if err != nil {
			return bad("cpuset", strconv.Quote(r.Cpuset), "%v", err)
		}
		online, err := onlineCPUs()
		if err != nil {
			return bad("cpuset", strconv.Quote(r.Cpuset), "cannot read the online CPUs: %v", err)
		}
		for _, c := range cpus {
			if !online[c] {
				return bad("cpuset", strconv.Quote(r.Cpuset), "CPU %d is not online", c)
			}
		}
	}
	return nil
}

// cpuMax returns the CFS quota and period that r asks for; quota is -1 when r sets
// no quota.
func (r *Resources) cpuMax() (quota int64, period uint64) {
	period = r.CPUPeriod
	if period == 0 {
		period = DefaultCPUPeriod
	}
	switch {
	case r.CPUs > 0:
		return int64(r.CPUs * float64(period)), period
	case r.CPUQuota > 0:
		return r.CPUQuota, period
	}
	return -1, period
}

// sharesToWeight converts v1 cpu.shares to v2 cpu.weight as runc and crun do.
func sharesToWeight(shares uint64) uint64 {
	return 1 + ((shares-2)*9999)/262142
}

// weightToShares is the inverse of sharesToWeight.
func weightToShares(weight uint64) uint64 {
	return 2 + ((weight-1)*262142)/9999
}

// ParseCPUList parses the kernel's CPU list format ("0-3,6,8-9") into sorted,
// distinct CPU numbers.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	seen := make(map[int]bool)
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad CPU number %q", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU range %q", part)
			}
		}
		if b-a > 1<<16 {
			return nil, fmt.Errorf("CPU range %q too large", part)
		}
		for c := a; c <= b; c++ {
			seen[c] = true
		}
	}
	cpus := make([]int, 0, len(seen))
	for c := range seen {
		cpus = append(cpus, c)
	}
	sort.Ints(cpus)
	return cpus, nil
}

var onlineCPUs = sync.OnceValues(func() (map[int]bool, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, err
	}
	cpus, err := ParseCPUList(string(b))
	if err != nil {
		return nil, err
	}
	m := make(map[int]bool, len(cpus))
	for _, c := range cpus {
		m[c] = true
	}
	return m, nil
})
