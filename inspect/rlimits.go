package inspect

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// RlimitReport holds the soft resource limits that bound what a sandbox's
// processes may take where no cgroup does (see RlimitFallback and Limits.CPUTime
// of sandbox.Spec), as /proc/PID/limits shows them: -1 is unlimited, 0 unknown.
type RlimitReport struct {
	// Processes is RLIMIT_NPROC, a number of processes of one user.
	Processes int64 `json:"processes"`
	// AddressSpace is RLIMIT_AS, in bytes.
	AddressSpace int64 `json:"addressSpace"`
	// CPUTime is RLIMIT_CPU, in seconds of one process.
	CPUTime int64  `json:"cpuTime"`
	Err     string `json:"error,omitempty"`
}

// rlimitRows are the rows of /proc/PID/limits that an RlimitReport holds.
var rlimitRows = map[string]int{
	"Max processes":     unix.RLIMIT_NPROC,
	"Max address space": unix.RLIMIT_AS,
	"Max cpu time":      unix.RLIMIT_CPU,
}

// Set stores the soft limit v (-1 for unlimited) of resource n (unix.RLIMIT_NPROC,
// RLIMIT_AS or RLIMIT_CPU); other resources are not held and change nothing.
func (r *RlimitReport) Set(n int, v int64) {
	switch n {
	case unix.RLIMIT_NPROC:
		r.Processes = v
	case unix.RLIMIT_AS:
		r.AddressSpace = v
	case unix.RLIMIT_CPU:
		r.CPUTime = v
	}
}

// ReadRlimits reads the soft limits of process pid (0 for the caller) from
// /proc/PID/limits; Err says why they could not be read.
func ReadRlimits(pid int) RlimitReport {
	dir := "self"
	if pid != 0 {
		dir = strconv.Itoa(pid)
	}
	var r RlimitReport
	b, err := os.ReadFile("/proc/" + dir + "/limits")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	// Fixed columns: the name in the first 26, then soft, hard and units.
	for _, line := range strings.Split(string(b), "\n") {
		if len(line) < 26 {
			continue
		}
		n, ok := rlimitRows[strings.TrimSpace(line[:26])]
		f := strings.Fields(line[26:])
		if !ok || len(f) == 0 {
			continue
		}
		v := int64(-1)
		if f[0] != "unlimited" {
			if v, err = strconv.ParseInt(f[0], 10, 64); err != nil {
				v = 0
			}
		}
		r.Set(n, v)
	}
	return r
}

func rlimitsText(r RlimitReport) string {
	if r.Err != "" {
		return "unknown: " + r.Err
	}
	return "processes " + limitText(r.Processes) + ", address space " + limitText(r.AddressSpace) + ", CPU seconds " + limitText(r.CPUTime)
}
