package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Info describes the cgroups of a live process and the limits they impose.
type Info struct {
	Membership
	// Dirs maps each v1 controller, and "" for the unified hierarchy, to the
	// directory of the process's cgroup in this mount namespace.
	Dirs map[string]string `json:"dirs,omitempty"`
	// Memory is the memory limit in bytes; -1 is unlimited, 0 unknown.
	Memory int64 `json:"memory"`
	// Pids is the process limit; -1 is unlimited, 0 unknown.
	Pids int64 `json:"pids"`
	// CPUQuota and CPUPeriod are the CFS bandwidth limit in microseconds; a quota of
	// -1 is unlimited, 0 unknown.
	CPUQuota  int64  `json:"cpuQuota"`
	CPUPeriod uint64 `json:"cpuPeriod"`
}

// Inspect reads the cgroup membership of process pid (0 for the caller) from
// /proc/PID/cgroup and its limits from the hierarchy: from the v1 controllers where
// the process has them, otherwise from its v2 cgroup. Paths are those of the
// caller's cgroup namespace.
func Inspect(pid int) (*Info, error) {
	m, err := ReadMembership(pid)
	if err != nil {
		return nil, err
	}
	l, err := loadLayout()
	if err != nil {
		return nil, err
	}
	info := &Info{Membership: *m, Dirs: make(map[string]string)}
	for ctrl, p := range m.V1 {
		if h := l.v1[ctrl]; h != nil {
			info.Dirs[ctrl] = h.dir(p)
		}
	}
	if m.HasV2 && l.v2 != nil {
		info.Dirs[""] = l.v2.dir(m.V2)
	}
	if d := info.Dirs["memory"]; d != "" {
		info.Memory = readLimit(filepath.Join(d, "memory.limit_in_bytes"))
	} else if d := info.Dirs[""]; d != "" {
		info.Memory = readLimit(filepath.Join(d, "memory.max"))
	}
	if d := info.Dirs["pids"]; d != "" {
		info.Pids = readLimit(filepath.Join(d, "pids.max"))
	} else if d := info.Dirs[""]; d != "" {
		info.Pids = readLimit(filepath.Join(d, "pids.max"))
	}
	if d := info.Dirs["cpu"]; d != "" {
		info.CPUQuota = readLimit(filepath.Join(d, "cpu.cfs_quota_us"))
		if p := readLimit(filepath.Join(d, "cpu.cfs_period_us")); p > 0 {
			info.CPUPeriod = uint64(p)
		}
	} else if d := info.Dirs[""]; d != "" {
		if b, err := readFile(filepath.Join(d, "cpu.max")); err == nil {
			if q, p, ok := strings.Cut(strings.TrimSpace(string(b)), " "); ok {
				info.CPUQuota = parseLimit(q)
				info.CPUPeriod, _ = strconv.ParseUint(p, 10, 64)
			}
		}
	}
	return info, nil
}

// unlimitedV1 is the smallest value that v1 reports for "no memory limit"
// (PAGE_COUNTER_MAX pages, rounded to the page size).
const unlimitedV1 = 1 << 62

// readLimit reads a limit file: -1 for "max" or v1's huge unlimited value, 0 when it
// cannot be read. A cgroup at the root of a v1 hierarchy has no pids.max: unlimited.
func readLimit(p string) int64 {
	b, err := readFile(p)
	if err != nil {
		if os.IsNotExist(err) && filepath.Base(p) == "pids.max" {
			return -1
		}
		return 0
	}
	return parseLimit(strings.TrimSpace(string(b)))
}

func parseLimit(s string) int64 {
	if s == "max" {
		return -1
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if u, err := strconv.ParseUint(s, 10, 64); err == nil && u >= unlimitedV1 {
			return -1
		}
		return 0
	}
	if v >= unlimitedV1 || v < 0 {
		return -1
	}
	return v
}
