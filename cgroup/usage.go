package cgroup

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Usage is a detailed reading of a cgroup's accounting and limits, shaped as
// the "data" of the "stats" event of an OCI runtime's `events` command (runc's
// JSON field names), so that engines that read those events can read it. A
// section whose controller the cgroup lacks stays zero.
type Usage struct {
	CPU    CPUUsage    `json:"cpu"`
	CPUSet CPUSetUsage `json:"cpuset"`
	Memory MemoryUsage `json:"memory"`
	Pids   PidsUsage   `json:"pids"`
	Blkio  BlkioUsage  `json:"blkio"`
}

// CPUUsage is the CPU time used, in nanoseconds, and the CFS throttling.
type CPUUsage struct {
	Usage struct {
		Total        uint64   `json:"total,omitempty"`
		Percpu       []uint64 `json:"percpu,omitempty"`
		PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
		PercpuUser   []uint64 `json:"percpu_user,omitempty"`
		Kernel       uint64   `json:"kernel"`
		User         uint64   `json:"user"`
	} `json:"usage"`
	Throttling struct {
		Periods          uint64 `json:"periods,omitempty"`
		ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
		ThrottledTime    uint64 `json:"throttledTime,omitempty"`
	} `json:"throttling"`
}

// CPUSetUsage lists the CPUs and memory nodes the cgroup may use.
type CPUSetUsage struct {
	CPUs []uint16 `json:"cpus,omitempty"`
	Mems []uint16 `json:"mems,omitempty"`
}

// A MemoryEntry is one memory counter in bytes: its use, its peak, its limit
// (v1's huge number, or 2^64-1 for v2's "max", when unlimited) and how often
// the limit was hit.
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// MemoryUsage is the memory accounting: page cache, memory, memory plus swap
// (v1) or swap (v2), and the raw memory.stat.
type MemoryUsage struct {
	Cache uint64            `json:"cache,omitempty"`
	Usage MemoryEntry       `json:"usage"`
	Swap  MemoryEntry       `json:"swap"`
	Raw   map[string]uint64 `json:"raw,omitempty"`
}

// PidsUsage is the number of tasks and its limit (0 when unlimited).
type PidsUsage struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// A BlkioEntry is one line of a v1 blkio statistic: a device, an operation
// ("Read", "Write", ...) and a count.
type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

// BlkioUsage is the block I/O done: bytes and operations per device.
type BlkioUsage struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
}

// Usage reads the cgroup's accounting and limits from the controllers it has:
// on v1 memory, pids, cpu, cpuacct, cpuset and blkio; on v2 the files of the
// controllers enabled in its directory. It fails only when the cgroup's files
// cannot be read (for instance once it is removed); a nil Cgroup fails with an
// error matching ErrNotSupported.
func (c *Cgroup) Usage() (*Usage, error) {
	if c == nil {
		return nil, unsupported("statistics", "the sandbox has no cgroup")
	}
	u := &Usage{}
	if c.version == 1 {
		return u, c.usageV1(u)
	}
	return u, usageV2(c.v2dir, u)
}

func (c *Cgroup) usageV1(u *Usage) error {
	if d := c.v1["memory"]; d != "" {
		if err := memoryV1(d, &u.Memory); err != nil {
			return err
		}
	}
	if d := c.v1["pids"]; d != "" {
		cur, err := readUint(filepath.Join(d, "pids.current"))
		if err != nil {
			return err
		}
		u.Pids = PidsUsage{Current: cur, Limit: limitUint(filepath.Join(d, "pids.max"))}
	}
	if d := c.v1["cpuacct"]; d != "" {
		cu := &u.CPU.Usage
		cu.Total, _ = readUint(filepath.Join(d, "cpuacct.usage"))
		cu.Percpu = readUints(filepath.Join(d, "cpuacct.usage_percpu"))
		cu.PercpuKernel = readUints(filepath.Join(d, "cpuacct.usage_percpu_sys"))
		cu.PercpuUser = readUints(filepath.Join(d, "cpuacct.usage_percpu_user"))
		cu.Kernel, _ = readUint(filepath.Join(d, "cpuacct.usage_sys"))
		cu.User, _ = readUint(filepath.Join(d, "cpuacct.usage_user"))
	}
	if d := c.v1["cpu"]; d != "" {
		th := &u.CPU.Throttling
		th.Periods, _ = readKey(filepath.Join(d, "cpu.stat"), "nr_periods")
		th.ThrottledPeriods, _ = readKey(filepath.Join(d, "cpu.stat"), "nr_throttled")
		th.ThrottledTime, _ = readKey(filepath.Join(d, "cpu.stat"), "throttled_time")
	}
	if d := c.v1["cpuset"]; d != "" {
		u.CPUSet.CPUs = readList(filepath.Join(d, "cpuset.cpus"))
		u.CPUSet.Mems = readList(filepath.Join(d, "cpuset.mems"))
	}
	if d := c.v1["blkio"]; d != "" {
		u.Blkio.IoServiceBytesRecursive = readBlkio(filepath.Join(d, "blkio.throttle.io_service_bytes_recursive"))
		u.Blkio.IoServicedRecursive = readBlkio(filepath.Join(d, "blkio.throttle.io_serviced_recursive"))
	}
	return nil
}

// memoryV1 reads a v1 memory directory.
func memoryV1(d string, m *MemoryUsage) error {
	entry := func(prefix string) (MemoryEntry, error) {
		var e MemoryEntry
		var err error
		if e.Usage, err = readUint(filepath.Join(d, prefix+"usage_in_bytes")); err != nil {
			return e, err
		}
		e.Max, _ = readUint(filepath.Join(d, prefix+"max_usage_in_bytes"))
		e.Limit, _ = readUint(filepath.Join(d, prefix+"limit_in_bytes"))
		e.Failcnt, _ = readUint(filepath.Join(d, prefix+"failcnt"))
		return e, nil
	}
	var err error
	if m.Usage, err = entry("memory."); err != nil {
		return err
	}
	m.Swap, _ = entry("memory.memsw.") // no swap accounting: zero
	m.Raw = readFlat(filepath.Join(d, "memory.stat"))
	m.Cache = m.Raw["cache"]
	return nil
}

// usageV2 reads what exists of a v2 directory's statistics.
func usageV2(d string, u *Usage) error {
	if _, err := os.Stat(d); err != nil {
		return fileError("read", d, "", unwrapPath(err))
	}
	if cur, err := readUint(filepath.Join(d, "memory.current")); err == nil {
		u.Memory.Usage = MemoryEntry{Usage: cur, Limit: limitUint(filepath.Join(d, "memory.max"))}
		u.Memory.Usage.Max, _ = readUint(filepath.Join(d, "memory.peak"))
		u.Memory.Usage.Failcnt, _ = readKey(filepath.Join(d, "memory.events"), "max")
		u.Memory.Raw = readFlat(filepath.Join(d, "memory.stat"))
		u.Memory.Cache = u.Memory.Raw["file"]
		if sw, err := readUint(filepath.Join(d, "memory.swap.current")); err == nil {
			u.Memory.Swap = MemoryEntry{Usage: sw, Limit: limitUint(filepath.Join(d, "memory.swap.max"))}
		}
	}
	if cur, err := readUint(filepath.Join(d, "pids.current")); err == nil {
		u.Pids = PidsUsage{Current: cur, Limit: limitUint(filepath.Join(d, "pids.max"))}
	}
	st := readFlat(filepath.Join(d, "cpu.stat"))
	u.CPU.Usage.Total = st["usage_usec"] * 1000
	u.CPU.Usage.User = st["user_usec"] * 1000
	u.CPU.Usage.Kernel = st["system_usec"] * 1000
	u.CPU.Throttling.Periods = st["nr_periods"]
	u.CPU.Throttling.ThrottledPeriods = st["nr_throttled"]
	u.CPU.Throttling.ThrottledTime = st["throttled_usec"] * 1000
	u.CPUSet.CPUs = readList(filepath.Join(d, "cpuset.cpus.effective"))
	u.CPUSet.Mems = readList(filepath.Join(d, "cpuset.mems.effective"))
	return nil
}

// limitUint reads a limit file: "max" is 2^64-1, a missing file or v1's pids
// "max" 0 for pids.
func limitUint(p string) uint64 {
	b, err := readFile(p)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		if filepath.Base(p) == "pids.max" {
			return 0
		}
		return ^uint64(0)
	}
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

// readUints reads a file of blank-separated numbers.
func readUints(p string) []uint64 {
	var out []uint64
	for _, f := range readFields(p) {
		if v, err := strconv.ParseUint(f, 10, 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// readList reads a file in the kernel's list format ("0-3,5").
func readList(p string) []uint16 {
	b, err := readFile(p)
	if err != nil {
		return nil
	}
	ns, err := ParseCPUList(string(b))
	if err != nil {
		return nil
	}
	out := make([]uint16, 0, len(ns))
	for _, n := range ns {
		out = append(out, uint16(n))
	}
	return out
}

// readFlat reads a flat keyed file ("key value" lines) into a map; nil when
// it cannot be read.
func readFlat(p string) map[string]uint64 {
	b, err := readFile(p)
	if err != nil {
		return nil
	}
	m := make(map[string]uint64)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	return m
}

// readBlkio reads a v1 blkio statistic ("MAJ:MIN Op value" lines; a "Total"
// line without a device is left out).
func readBlkio(p string) []BlkioEntry {
	b, err := readFile(p)
	if err != nil {
		return nil
	}
	var out []BlkioEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		maj, min, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		e := BlkioEntry{Op: f[1]}
		e.Major, _ = strconv.ParseUint(maj, 10, 64)
		e.Minor, _ = strconv.ParseUint(min, 10, 64)
		e.Value, _ = strconv.ParseUint(f[2], 10, 64)
		out = append(out, e)
	}
	return out
}
