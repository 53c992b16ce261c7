package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Lists are the settings of a Resources that are lists or maps, kept apart so
// that the rest of Resources stays comparable.
type Lists struct {
	// Hugetlb limits the huge pages of each size (hugetlb.<size>.limit_in_bytes
	// on v1, hugetlb.<size>.max on v2).
	Hugetlb []HugepageLimit `json:"hugetlb,omitempty"`
	// NetPriorities are the priorities of the traffic of each network interface
	// (net_prio.ifpriomap, v1 only).
	NetPriorities []NetPriority `json:"netPriorities,omitempty"`
	// Rdma limits the RDMA/IB resources of each device (rdma.max).
	Rdma []RdmaLimit `json:"rdma,omitempty"`
	// Unified are cgroup v2 files written by name ("memory.high": "1G") after
	// every other limit, v2 only.
	Unified map[string]string `json:"unified,omitempty"`
	// WeightDevice are the block I/O weights (10..1000) of single devices
	// (blkio.weight_device or blkio.bfq.weight_device on v1, io.weight on v2).
	WeightDevice []DeviceLimit `json:"weightDevice,omitempty"`
	// ThrottleReadBps, ThrottleWriteBps, ThrottleReadIOPS and
	// ThrottleWriteIOPS cap the bytes and the operations per second read and
	// written on single devices (blkio.throttle.*_device on v1, io.max on v2).
	ThrottleReadBps   []DeviceLimit `json:"throttleReadBps,omitempty"`
	ThrottleWriteBps  []DeviceLimit `json:"throttleWriteBps,omitempty"`
	ThrottleReadIOPS  []DeviceLimit `json:"throttleReadIOPS,omitempty"`
	ThrottleWriteIOPS []DeviceLimit `json:"throttleWriteIOPS,omitempty"`
}

// A DeviceLimit is a weight or a rate of the block device Major:Minor.
type DeviceLimit struct {
	Major int64  `json:"major"`
	Minor int64  `json:"minor"`
	Value uint64 `json:"value"`
}

// throttles are the throttle lists of l, with their v1 files and v2 keys.
func (l *Lists) throttles() []throttle {
	return []throttle{
		{"throttleReadBps", "blkio.throttle.read_bps_device", "rbps", l.ThrottleReadBps},
		{"throttleWriteBps", "blkio.throttle.write_bps_device", "wbps", l.ThrottleWriteBps},
		{"throttleReadIOPS", "blkio.throttle.read_iops_device", "riops", l.ThrottleReadIOPS},
		{"throttleWriteIOPS", "blkio.throttle.write_iops_device", "wiops", l.ThrottleWriteIOPS},
	}
}

// A throttle is one of the throttle lists of a Lists.
type throttle struct {
	field, v1, v2 string
	limits        []DeviceLimit
}

// A HugepageLimit is the limit in bytes of the huge pages of PageSize ("2MB",
// "1GB"), as the kernel names them in hugetlb's files.
type HugepageLimit struct {
	PageSize string `json:"pageSize"`
	Limit    uint64 `json:"limit"`
}

// A NetPriority is the priority of the traffic on network interface Interface.
type NetPriority struct {
	Interface string `json:"interface"`
	Priority  uint32 `json:"priority"`
}

// An RdmaLimit limits the HCA handles and objects of RDMA device Device; nil
// leaves one unlimited.
type RdmaLimit struct {
	Device     string  `json:"device"`
	HcaHandles *uint32 `json:"hcaHandles,omitempty"`
	HcaObjects *uint32 `json:"hcaObjects,omitempty"`
}

// MaxSwappiness is the largest memory.swappiness the runtime spec allows.
const MaxSwappiness = 100

// UnsupportedError reports a field of a Resources that this host or caller
// cannot have, and why (a controller that is not mounted, a v1 setting on a
// v2 host). It matches ErrNotSupported.
type UnsupportedError struct {
	Field  string
	Reason string
}

// Error implements the error interface.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("cgroup: %s: %s", e.Field, e.Reason)
}

// Is makes an UnsupportedError match ErrNotSupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNotSupported }

// Clone returns a deep copy of r (nil for nil).
func (r *Resources) Clone() *Resources {
	if r == nil {
		return nil
	}
	c := *r
	if r.MemorySwappiness != nil {
		v := *r.MemorySwappiness
		c.MemorySwappiness = &v
	}
	if r.CPUIdle != nil {
		v := *r.CPUIdle
		c.CPUIdle = &v
	}
	if l := r.Lists; l != nil {
		cl := Lists{Hugetlb: slices.Clone(l.Hugetlb), NetPriorities: slices.Clone(l.NetPriorities), Rdma: slices.Clone(l.Rdma),
			WeightDevice: slices.Clone(l.WeightDevice), ThrottleReadBps: slices.Clone(l.ThrottleReadBps),
			ThrottleWriteBps: slices.Clone(l.ThrottleWriteBps), ThrottleReadIOPS: slices.Clone(l.ThrottleReadIOPS),
			ThrottleWriteIOPS: slices.Clone(l.ThrottleWriteIOPS)}
		if l.Unified != nil {
			cl.Unified = make(map[string]string, len(l.Unified))
			for k, v := range l.Unified {
				cl.Unified[k] = v
			}
		}
		c.Lists = &cl
	}
	return &c
}

// empty reports whether l holds nothing.
func (l *Lists) empty() bool {
	if l == nil {
		return true
	}
	for _, t := range l.throttles() {
		if len(t.limits) > 0 {
			return false
		}
	}
	return len(l.Hugetlb) == 0 && len(l.NetPriorities) == 0 && len(l.Rdma) == 0 && len(l.Unified) == 0 && len(l.WeightDevice) == 0
}

// A setting is one of the finer settings of a Resources: its field name, the
// v1 controller it needs, whether it is set, and whether each version has it.
type setting struct {
	field  string
	ctrl   string
	set    bool
	v1, v2 bool
	// file is a file of the controller's that the host must have (v1), "" for
	// none; alt is one that may stand in for it.
	file, alt string
}

// settings lists the finer settings of r.
func (r *Resources) settings() []setting {
	l := r.Lists
	if l == nil {
		l = &Lists{}
	}
	set := []setting{
		{field: "memoryReservation", ctrl: "memory", set: r.MemoryReservation != 0, v1: true, v2: true, file: "memory.soft_limit_in_bytes"},
		{field: "memorySwappiness", ctrl: "memory", set: r.MemorySwappiness != nil, v1: true, file: "memory.swappiness"},
		{field: "disableOOMKiller", ctrl: "memory", set: r.DisableOOMKiller, v1: true, file: "memory.oom_control"},
		{field: "cpuRealtimeRuntime", ctrl: "cpu", set: r.CPURealtimeRuntime != 0, v1: true, file: "cpu.rt_runtime_us"},
		{field: "cpuRealtimePeriod", ctrl: "cpu", set: r.CPURealtimePeriod != 0, v1: true, file: "cpu.rt_period_us"},
		{field: "cpuBurst", ctrl: "cpu", set: r.CPUBurst != 0, v1: true, v2: true, file: "cpu.cfs_burst_us"},
		{field: "cpuIdle", ctrl: "cpu", set: r.CPUIdle != nil, v1: true, v2: true, file: "cpu.idle"},
		{field: "cpusetMems", ctrl: "cpuset", set: r.CpusetMems != "", v1: true, v2: true, file: "cpuset.mems"},
		{field: "netClassID", ctrl: "net_cls", set: r.NetClassID != 0, v1: true, file: "net_cls.classid"},
		{field: "netPriorities", ctrl: "net_prio", set: len(l.NetPriorities) > 0, v1: true, file: "net_prio.ifpriomap"},
		{field: "hugetlb", ctrl: "hugetlb", set: len(l.Hugetlb) > 0, v1: true, v2: true},
		{field: "rdma", ctrl: "rdma", set: len(l.Rdma) > 0, v1: true, v2: true, file: "rdma.max"},
		{field: "unified", set: len(l.Unified) > 0, v2: true},
		{field: "weightDevice", ctrl: "blkio", set: len(l.WeightDevice) > 0, v1: true, v2: true, file: "blkio.weight_device", alt: "blkio.bfq.weight_device"},
	}
	for _, t := range l.throttles() {
		set = append(set, setting{field: t.field, ctrl: "blkio", set: len(t.limits) > 0, v1: true, v2: true, file: t.v1})
	}
	return set
}

// fineWanted returns the controllers, by v1 name, that the finer settings need.
func (r *Resources) fineWanted() []string {
	var c []string
	for _, s := range r.settings() {
		if s.set && s.ctrl != "" && !slices.Contains(c, s.ctrl) {
			c = append(c, s.ctrl)
		}
	}
	if r.Lists != nil {
		for k := range r.Lists.Unified {
			ctrl, _, _ := strings.Cut(k, ".")
			if ctrl == "io" {
				ctrl = "blkio"
			}
			if !slices.Contains(c, ctrl) {
				c = append(c, ctrl)
			}
		}
		slices.Sort(c)
	}
	return c
}

// The patterns of hugetlb page sizes and unified keys, compiled at first use: a
// program that sets neither pays nothing for them at start-up.
var (
	pageSizePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[1-9][0-9]*(KB|MB|GB)$`) })
	unifiedKey      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_]+\.[a-z0-9_.]+$`) })
)

// validateFine checks the finer settings.
func (r *Resources) validateFine() error {
	bad := func(field string, v any, format string, args ...any) error {
		return &ResourceError{Field: field, Value: v, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.MemoryReservation < 0:
		return bad("memoryReservation", r.MemoryReservation, "negative")
	case r.MemorySwappiness != nil && *r.MemorySwappiness > MaxSwappiness:
		return bad("memorySwappiness", *r.MemorySwappiness, "above %d", MaxSwappiness)
	case r.CPURealtimeRuntime < -1:
		return bad("cpuRealtimeRuntime", r.CPURealtimeRuntime, "negative (-1 is unlimited)")
	case r.CPURealtimePeriod != 0 && r.CPURealtimeRuntime > 0 && uint64(r.CPURealtimeRuntime) > r.CPURealtimePeriod:
		return bad("cpuRealtimeRuntime", r.CPURealtimeRuntime, "above the period %d", r.CPURealtimePeriod)
	case r.CPUIdle != nil && *r.CPUIdle != 0 && *r.CPUIdle != 1:
		return bad("cpuIdle", *r.CPUIdle, "neither 0 nor 1")
	case r.CPUBurst != 0 && r.CPUQuota == 0 && r.CPUs == 0:
		return bad("cpuBurst", r.CPUBurst, "set without a quota (cpuQuota or cpus)")
	}
	if r.CpusetMems != "" {
		if _, err := ParseCPUList(r.CpusetMems); err != nil {
			return bad("cpusetMems", strconv.Quote(r.CpusetMems), "%v", err)
		}
	}
	return r.Lists.validate()
}

// validate checks the lists of a Resources.
func (l *Lists) validate() error {
	if l == nil {
		return nil
	}
	bad := func(field string, v any, format string, args ...any) error {
		return &ResourceError{Field: field, Value: v, Reason: fmt.Sprintf(format, args...)}
	}
	for i, h := range l.Hugetlb {
		if !pageSizePattern().MatchString(h.PageSize) {
			return bad(fmt.Sprintf("hugetlb[%d].pageSize", i), strconv.Quote(h.PageSize), "not a size such as 2MB or 1GB")
		}
	}
	for i, p := range l.NetPriorities {
		if p.Interface == "" || len(p.Interface) > 15 || strings.ContainsAny(p.Interface, " \t\n/\x00") {
			return bad(fmt.Sprintf("netPriorities[%d].interface", i), strconv.Quote(p.Interface), "not a network interface name")
		}
	}
	for i, d := range l.Rdma {
		if d.Device == "" || strings.ContainsAny(d.Device, " \t\n/=\x00") {
			return bad(fmt.Sprintf("rdma[%d].device", i), strconv.Quote(d.Device), "not an RDMA device name")
		}
		if d.HcaHandles == nil && d.HcaObjects == nil {
			return bad(fmt.Sprintf("rdma[%d]", i), d.Device, "limits neither hcaHandles nor hcaObjects")
		}
	}
	if err := l.validateDevices(); err != nil {
		return err
	}
	for k, v := range l.Unified {
		if !unifiedKey().MatchString(k) || strings.Contains(k, "..") || strings.HasPrefix(k, "cgroup.") {
			return bad("unified", strconv.Quote(k), "not a controller's file name (cgroup.* files are the runtime's)")
		}
		if strings.ContainsRune(v, 0) {
			return bad("unified."+k, strconv.Quote(v), "holds a NUL byte")
		}
	}
	return nil
}

// validateDevices checks the weights and throttles of single devices.
func (l *Lists) validateDevices() error {
	bad := func(field string, v any, reason string) error {
		return &ResourceError{Field: field, Value: v, Reason: reason}
	}
	for i, d := range l.WeightDevice {
		if d.Value < 10 || d.Value > 1000 {
			return bad(fmt.Sprintf("weightDevice[%d]", i), d.Value, "outside 10 to 1000")
		}
	}
	for _, t := range append(l.throttles(), throttle{field: "weightDevice", limits: l.WeightDevice}) {
		for i, d := range t.limits {
			if d.Major < 0 || d.Minor < 0 {
				return bad(fmt.Sprintf("%s[%d]", t.field, i), fmt.Sprintf("%d:%d", d.Major, d.Minor), "not a device number")
			}
		}
	}
	return nil
}

// checkFineHost checks that the host and a caller of effective user ID euid can
// have the finer settings of r: the version of the cgroup the sandbox gets (1
// on a v1 or hybrid host, 2 on a v2 one) must have each, and its controller
// must be mounted (v1) or available in dir (v2) with the files it writes. It
// returns an *UnsupportedError naming the first that cannot be had.
func (r *Resources) checkFineHost(version int, l *layout, avail []string, euid int) error {
	if r == nil {
		return nil
	}
	for _, s := range r.settings() {
		if !s.set {
			continue
		}
		no := func(format string, args ...any) error {
			return &UnsupportedError{Field: s.field, Reason: fmt.Sprintf(format, args...)}
		}
		switch {
		case version == 1 && euid != 0:
			return no("cgroup v1 cannot be delegated to an unprivileged user")
		case version == 1 && !s.v1:
			return no("a cgroup v2 setting, and this host's cgroups are v1")
		case version == 2 && !s.v2:
			return no("a cgroup v1 setting, and this host's cgroups are v2")
		case version == 1 && l.v1[s.ctrl] == nil:
			return no("the %s controller is not mounted", s.ctrl)
		case version == 2 && s.ctrl != "" && !slices.Contains(avail, v2Name(s.ctrl)):
			return no("the %s controller is not available", v2Name(s.ctrl))
		case version == 1 && s.file != "" && !s.hostHas(l.v1[s.ctrl].mountpoint):
			return no("the kernel has no %s", s.file)
		}
	}
	if version == 2 {
		for k := range r.Lists.unified() {
			ctrl, _, _ := strings.Cut(k, ".")
			if !slices.Contains(avail, ctrl) {
				return &UnsupportedError{Field: "unified." + k, Reason: "the " + ctrl + " controller is not available"}
			}
		}
	}
	return r.Lists.checkPageSizes()
}

// hostHas reports whether the hierarchy mounted at dir has the setting's file,
// or the file that may stand in for it.
func (s setting) hostHas(dir string) bool {
	return exists(filepath.Join(dir, s.file)) || s.alt != "" && exists(filepath.Join(dir, s.alt))
}

// unified returns l's unified files, nil for a nil l.
func (l *Lists) unified() map[string]string {
	if l == nil {
		return nil
	}
	return l.Unified
}

// checkPageSizes checks that the host has huge pages of every size limited.
func (l *Lists) checkPageSizes() error {
	if l == nil {
		return nil
	}
	for i, h := range l.Hugetlb {
		kb, _ := pageKB(h.PageSize)
		if !exists(fmt.Sprintf("/sys/kernel/mm/hugepages/hugepages-%dkB", kb)) {
			return &UnsupportedError{Field: fmt.Sprintf("hugetlb[%d].pageSize", i), Reason: "the kernel has no huge pages of " + h.PageSize}
		}
	}
	return nil
}

// pageKB returns a page size ("2MB") in KiB.
func pageKB(size string) (uint64, bool) {
	n, err := strconv.ParseUint(size[:len(size)-2], 10, 64)
	if err != nil {
		return 0, false
	}
	switch size[len(size)-2:] {
	case "MB":
		n <<= 10
	case "GB":
		n <<= 20
	}
	return n, true
}

// exists reports whether p exists.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// applyFineV1 writes the finer settings into the v1 directories.
func applyFineV1(dirs map[string]string, r *Resources) error {
	var w writes
	if d := dirs["memory"]; d != "" {
		w.memoryV1(d, r)
	}
	if d := dirs["cpu"]; d != "" {
		w.cpuV1(d, r)
	}
	if d := dirs["cpuset"]; d != "" && r.CpusetMems != "" {
		w.add(d, "cpuset.mems", r.CpusetMems)
	}
	if d := dirs["net_cls"]; d != "" && r.NetClassID != 0 {
		w.add(d, "net_cls.classid", strconv.FormatUint(uint64(r.NetClassID), 10))
	}
	if l := r.Lists; l != nil {
		if d := dirs["net_prio"]; d != "" {
			for _, p := range l.NetPriorities {
				w.add(d, "net_prio.ifpriomap", p.Interface+" "+strconv.FormatUint(uint64(p.Priority), 10))
			}
		}
		w.lists(dirs["hugetlb"], dirs["rdma"], l, "limit_in_bytes")
		if d := dirs["blkio"]; d != "" {
			w.devicesV1(d, l)
		}
	}
	return w.write()
}

// memoryV1 adds the memory reservation, swappiness and OOM killer switch.
func (w *writes) memoryV1(d string, r *Resources) {
	if r.MemoryReservation != 0 {
		w.add(d, "memory.soft_limit_in_bytes", strconv.FormatInt(r.MemoryReservation, 10))
	}
	if r.MemorySwappiness != nil {
		w.add(d, "memory.swappiness", strconv.FormatUint(*r.MemorySwappiness, 10))
	}
	if r.DisableOOMKiller {
		w.add(d, "memory.oom_control", "1")
	}
}

// cpuV1 adds the realtime bandwidth (the period first), the burst and the
// idle weight.
func (w *writes) cpuV1(d string, r *Resources) {
	if r.CPURealtimePeriod != 0 {
		w.add(d, "cpu.rt_period_us", strconv.FormatUint(r.CPURealtimePeriod, 10))
	}
	if r.CPURealtimeRuntime != 0 {
		w.add(d, "cpu.rt_runtime_us", strconv.FormatInt(r.CPURealtimeRuntime, 10))
	}
	if r.CPUBurst != 0 {
		w.add(d, "cpu.cfs_burst_us", strconv.FormatUint(r.CPUBurst, 10))
	}
	if r.CPUIdle != nil {
		w.add(d, "cpu.idle", strconv.FormatInt(*r.CPUIdle, 10))
	}
}

// devicesV1 adds the block I/O weights and throttles of single devices.
func (w *writes) devicesV1(d string, l *Lists) {
	file := "blkio.weight_device"
	if !exists(filepath.Join(d, file)) {
		file = "blkio.bfq.weight_device"
	}
	for _, x := range l.WeightDevice {
		w.add(d, file, fmt.Sprintf("%d:%d %d", x.Major, x.Minor, x.Value))
	}
	for _, t := range l.throttles() {
		for _, x := range t.limits {
			w.add(d, t.v1, fmt.Sprintf("%d:%d %d", x.Major, x.Minor, x.Value))
		}
	}
}

// devicesV2 adds the block I/O weights and throttles of single devices.
func (w *writes) devicesV2(d string, l *Lists) {
	for _, x := range l.WeightDevice {
		w.add(d, "io.weight", fmt.Sprintf("%d:%d %d", x.Major, x.Minor, x.Value))
	}
	for _, t := range l.throttles() {
		for _, x := range t.limits {
			w.add(d, "io.max", fmt.Sprintf("%d:%d %s=%d", x.Major, x.Minor, t.v2, x.Value))
		}
	}
}

// applyFineV2 writes the finer settings into a v2 directory, the unified files
// last.
func applyFineV2(d string, r *Resources) error {
	var w writes
	if r.MemoryReservation != 0 {
		w.add(d, "memory.low", strconv.FormatInt(r.MemoryReservation, 10))
	}
	if r.CpusetMems != "" {
		w.add(d, "cpuset.mems", r.CpusetMems)
	}
	if r.CPUBurst != 0 {
		w.add(d, "cpu.max.burst", strconv.FormatUint(r.CPUBurst, 10))
	}
	if r.CPUIdle != nil {
		w.add(d, "cpu.idle", strconv.FormatInt(*r.CPUIdle, 10))
	}
	if l := r.Lists; l != nil {
		w.lists(d, d, l, "max")
		w.devicesV2(d, l)
		keys := make([]string, 0, len(l.Unified))
		for k := range l.Unified {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			w.add(d, k, l.Unified[k])
		}
	}
	return w.write()
}

// writes are cgroup files to write, in order.
type writes [][2]string

func (w *writes) add(dir, file, data string) {
	*w = append(*w, [2]string{filepath.Join(dir, file), data})
}

// lists adds the huge page limits (hugetlb.<size>.<suffix> in hugetlb) and the
// RDMA limits (rdma.max in rdma).
func (w *writes) lists(hugetlb, rdma string, l *Lists, suffix string) {
	if hugetlb != "" {
		for _, h := range l.Hugetlb {
			w.add(hugetlb, "hugetlb."+h.PageSize+"."+suffix, strconv.FormatUint(h.Limit, 10))
		}
	}
	if rdma != "" {
		for _, d := range l.Rdma {
			line := d.Device
			if d.HcaHandles != nil {
				line += " hca_handle=" + strconv.FormatUint(uint64(*d.HcaHandles), 10)
			}
			if d.HcaObjects != nil {
				line += " hca_object=" + strconv.FormatUint(uint64(*d.HcaObjects), 10)
			}
			w.add(rdma, "rdma.max", line)
		}
	}
}

func (w writes) write() error {
	for _, x := range w {
		if err := writeFile(x[0], x[1]); err != nil {
			return err
		}
	}
	return nil
}

// CheckHost checks that this host and a caller of effective user ID euid can
// have the finer settings of r (all but the memory, pids, CPU quota, weight
// and cpuset limits and the I/O weight), in a cgroup below the caller's own
// on a v2 host: each must exist in the version of the host's cgroups and its
// controller must be there. It returns an *UnsupportedError naming the first
// that cannot be had; Plan makes the same check.
func (r *Resources) CheckHost(euid int) error {
	if r == nil {
		return nil
	}
	l, err := loadLayout()
	if err != nil {
		return fileError("read", "/proc/self/mountinfo", "", err)
	}
	switch Detect() {
	case V1, Hybrid:
		return r.checkFineHost(1, l, nil, euid)
	case V2:
		if l.v2 == nil {
			break
		}
		own, err := ReadMembership(0)
		if err != nil {
			return err
		}
		dir := nearestExisting(l.v2.dir(resolveParent("", own.V2)))
		return r.checkFineHost(2, l, readFields(filepath.Join(dir, "cgroup.controllers")), euid)
	}
	return nil
}
