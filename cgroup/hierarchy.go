package cgroup

import (
	"bufio"
	"bytes"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/sys/mountinfo"
)

// v1Controllers are the v1 controllers this package recognises in mount options.
var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "blkio": true, "pids": true, "net_cls": true, "net_prio": true,
	"perf_event": true, "hugetlb": true, "rdma": true, "misc": true,
}

// A hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	mountpoint string // where it is mounted
	root       string // the cgroup path the mount shows at mountpoint
}

// dir returns the directory of cgroup path p (as /proc/PID/cgroup names it).
func (h *hierarchy) dir(p string) string {
	if h.root != "/" {
		if rel, ok := strings.CutPrefix(p, h.root); ok && (rel == "" || rel[0] == '/') {
			p = rel
		}
	}
	return filepath.Join(h.mountpoint, p)
}

// A layout is the set of cgroup hierarchies mounted in the caller's mount namespace.
type layout struct {
	v1 map[string]*hierarchy // by controller; several controllers may share one
	v2 *hierarchy            // the unified hierarchy, or nil
}

// loadLayout reads the mount table once.
var loadLayout = sync.OnceValues(func() (*layout, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, err
	}
	l := &layout{v1: make(map[string]*hierarchy)}
	for _, m := range mounts {
		h := &hierarchy{mountpoint: m.Mountpoint, root: m.Root}
		if m.FSType == "cgroup2" {
			if l.v2 == nil {
				l.v2 = h
			}
			continue
		}
		for _, opt := range strings.Split(m.VFSOptions, ",") {
			if v1Controllers[opt] && l.v1[opt] == nil {
				l.v1[opt] = h
			}
		}
	}
	return l, nil
})

// Membership is the cgroup membership of a process, as /proc/PID/cgroup lists it.
// Paths are relative to the reader's cgroup namespace.
type Membership struct {
	// V1 maps each v1 controller to the process's cgroup path in its hierarchy.
	V1 map[string]string `json:"v1,omitempty"`
	// V2 is the path in the unified hierarchy ("" when there is none).
	V2 string `json:"v2,omitempty"`
	// HasV2 reports whether a v2 line ("0::") was present.
	HasV2 bool `json:"hasV2,omitempty"`
}

// Paths maps each v1 controller, and "unified" for the v2 hierarchy where there
// is a v2 line, to the process's cgroup path: the form reports print.
func (m *Membership) Paths() map[string]string {
	paths := make(map[string]string, len(m.V1)+1)
	for k, v := range m.V1 {
		paths[k] = v
	}
	if m.HasV2 {
		paths["unified"] = m.V2
	}
	return paths
}

// ReadMembership parses /proc/PID/cgroup, or /proc/self/cgroup when pid is 0.
func ReadMembership(pid int) (*Membership, error) {
	p := "/proc/self/cgroup"
	if pid != 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/cgroup"
	}
	b, err := readFile(p)
	if err != nil {
		return nil, fileError("read", p, "", err)
	}
	m := &Membership{V1: make(map[string]string)}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		id, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		ctrls, cgpath, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if id == "0" && ctrls == "" {
			m.V2, m.HasV2 = cgpath, true
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if v1Controllers[c] {
				m.V1[c] = cgpath
			}
		}
	}
	return m, nil
}

// resolveParent returns the cgroup path of the parent for a caller whose own path in
// the hierarchy is own.
func resolveParent(parent, own string) string {
	switch {
	case parent == "":
		return path.Join(own, DefaultParentName)
	case path.IsAbs(parent):
		return path.Clean(parent)
	}
	return path.Join(own, parent)
}
