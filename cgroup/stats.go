package cgroup

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats are the accounting figures of a cgroup. A figure that the host's
// controllers do not provide is 0.
type Stats struct {
	// MemoryCurrent is the memory in use, in bytes.
	MemoryCurrent uint64 `json:"memoryCurrent"`
	// MemoryPeak is the highest memory use recorded, in bytes (max_usage on v1).
	MemoryPeak uint64 `json:"memoryPeak"`
	// PidsCurrent is the number of processes and threads.
	PidsCurrent uint64 `json:"pidsCurrent"`
	// CPUUsage is the CPU time used, in nanoseconds.
	CPUUsage uint64 `json:"cpuUsageNs"`
	// OOMKills counts the processes the OOM killer killed because of the memory
	// limit.
	OOMKills uint64 `json:"oomKills"`
	// PidsLimited counts the forks and clones that the pids limit refused (the
	// "max" line of pids.events).
	PidsLimited uint64 `json:"pidsLimited"`
}

// Stats reads the cgroup's accounting files.
func (c *Cgroup) Stats() (*Stats, error) {
	if c == nil {
		return &Stats{}, nil
	}
	s := &Stats{}
	if c.version == 1 {
		var err error
		if d := c.v1["memory"]; d != "" {
			if s.MemoryCurrent, err = readUint(filepath.Join(d, "memory.usage_in_bytes")); err != nil {
				return nil, err
			}
			if s.MemoryPeak, err = readUint(filepath.Join(d, "memory.max_usage_in_bytes")); err != nil {
				return nil, err
			}
			if s.OOMKills, err = readKey(filepath.Join(d, "memory.oom_control"), "oom_kill"); err != nil {
				return nil, err
			}
		}
		if d := c.v1["pids"]; d != "" {
			if s.PidsCurrent, err = readUint(filepath.Join(d, "pids.current")); err != nil {
				return nil, err
			}
			// Older kernels have no pids.events in v1: 0 then.
			s.PidsLimited, _ = readKey(filepath.Join(d, "pids.events"), "max")
		}
		if d := c.v1["cpuacct"]; d != "" {
			if s.CPUUsage, err = readUint(filepath.Join(d, "cpuacct.usage")); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	readV2(c.v2dir, s)
	return s, nil
}

// readV2 fills s from the files of v2 directory d that exist.
func readV2(d string, s *Stats) {
	s.MemoryCurrent, _ = readUint(filepath.Join(d, "memory.current"))
	s.MemoryPeak, _ = readUint(filepath.Join(d, "memory.peak"))
	s.OOMKills, _ = readKey(filepath.Join(d, "memory.events"), "oom_kill")
	s.PidsCurrent, _ = readUint(filepath.Join(d, "pids.current"))
	s.PidsLimited, _ = readKey(filepath.Join(d, "pids.events"), "max")
	usec, _ := readKey(filepath.Join(d, "cpu.stat"), "usage_usec")
	s.CPUUsage = usec * 1000
}

// CPUUsage returns the CPU time the cgroup's processes have used, in nanoseconds:
// cpuacct.usage on v1, usage_usec of cpu.stat on v2 (which every v2 cgroup has).
// It reads one file, for a caller that watches a CPU budget. It fails with an error
// matching os.ErrNotExist where neither is available, and once the cgroup is removed.
func (c *Cgroup) CPUUsage() (uint64, error) {
	if c == nil {
		return 0, fileError("read", "cpu usage", "", os.ErrNotExist)
	}
	if d := c.v1["cpuacct"]; d != "" {
		return readUint(filepath.Join(d, "cpuacct.usage"))
	}
	if c.v2dir == "" {
		return 0, fileError("read", c.name+": cpu usage", "", os.ErrNotExist)
	}
	p := filepath.Join(c.v2dir, "cpu.stat")
	if _, err := os.Stat(p); err != nil {
		return 0, fileError("read", p, "", unwrapPath(err))
	}
	usec, err := readKey(p, "usage_usec")
	return usec * 1000, err
}

// readUint reads a file holding one unsigned number.
func readUint(p string) (uint64, error) {
	b, err := readFile(p)
	if err != nil {
		return 0, fileError("read", p, "", unwrapPath(err))
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fileError("read", p, "", err)
	}
	return v, nil
}

// readKey reads the value of key in a flat keyed file ("key value" lines). A
// missing key reads as 0.
func readKey(p, key string) (uint64, error) {
	b, err := readFile(p)
	if err != nil {
		return 0, fileError("read", p, "", unwrapPath(err))
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fileError("read", p, "", err)
			}
			return n, nil
		}
	}
	return 0, nil
}
