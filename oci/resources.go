package oci

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
)

// resources sets the cgroup's path, limits and device rules.
func (c *converter) resources() error {
	if err := c.cgroupsPath(); err != nil {
		return err
	}
	r := c.linux.Resources
	if r == nil {
		r = &specs.LinuxResources{}
	}
	res := &cgroup.Resources{}
	for _, step := range []func(*specs.LinuxResources, *cgroup.Resources) error{
		memory, fineMemory, cpu, fineCPU, pids, blockIO, lists, fineBlockIO,
	} {
		if err := step(r, res); err != nil {
			return err
		}
	}
	if err := checkFine(r, res); err != nil {
		return err
	}
	if !res.IsZero() {
		c.spec.Cgroup.Resources = res
	}
	rules, err := deviceRules(r.Devices)
	if err != nil {
		return err
	}
	// After the configuration's rules and runc's: the allow rules of the
	// configuration's devices (see node).
	c.spec.Cgroup.Devices = append(rules, c.spec.Cgroup.Devices...)
	return nil
}

// cgroupsPath puts the sandbox in exactly the cgroup that cgroupsPath names
// (sandbox.WithCgroupPath), as runc does without --systemd-cgroup: a path,
// absolute or relative to the runtime's own cgroup. The systemd form
// "slice:prefix:name" is refused: it needs a systemd cgroup manager.
func (c *converter) cgroupsPath() error {
	p := c.linux.CgroupsPath
	if p == "" {
		return nil
	}
	if strings.Count(p, ":") == 2 {
		return unsupported("linux.cgroupsPath", "%q is systemd's slice:prefix:name form, which needs a systemd cgroup manager (--systemd-cgroup); give a path", p)
	}
	cs := cgroup.Spec{Path: p}
	if err := cs.Validate(); err != nil {
		return invalidErr("linux.cgroupsPath", err)
	}
	c.spec.Cgroup.Path = p
	return nil
}

// memory sets the memory limit and the limit of memory and swap.
func memory(r *specs.LinuxResources, res *cgroup.Resources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		//lint:ignore SA1019 a configuration may still set a kernel memory limit, which must be refused
		{"kernel", m.Kernel != nil}, {"kernelTCP", m.KernelTCP != nil},
		{"useHierarchy", m.UseHierarchy != nil}, {"checkBeforeUpdate", m.CheckBeforeUpdate != nil},
	} {
		if f.set {
			return unsupported("linux.resources.memory."+f.name, "a Spec has no such memory setting")
		}
	}
	if m.Limit != nil && *m.Limit > 0 {
		res.Memory = *m.Limit
	} else if m.Limit != nil && *m.Limit != -1 {
		return invalid("linux.resources.memory.limit", "%d is neither a limit nor -1 (unlimited)", *m.Limit)
	}
	if m.Swap != nil {
		if *m.Swap != -1 && (*m.Swap <= 0 || res.Memory == 0) {
			return invalid("linux.resources.memory.swap", "%d: a limit of memory and swap needs a memory limit, or is -1 (unlimited)", *m.Swap)
		}
		if res.Memory > 0 {
			res.MemorySwap = *m.Swap // -1 without a memory limit limits nothing
		}
	}
	return nil
}

// cpu sets the CPU weight, the CFS quota and the CPUs.
func cpu(r *specs.LinuxResources, res *cgroup.Resources) error {
	p := r.CPU
	if p == nil {
		return nil
	}
	if p.Shares != nil {
		res.CPUShares = *p.Shares
	}
	if p.Quota != nil && *p.Quota > 0 {
		res.CPUQuota = *p.Quota
	} else if p.Quota != nil && *p.Quota != -1 {
		return invalid("linux.resources.cpu.quota", "%d is neither a quota nor -1 (unlimited)", *p.Quota)
	}
	if p.Period != nil {
		res.CPUPeriod = *p.Period
	}
	res.Cpuset = p.Cpus
	return nil
}

// pids sets the limit of processes; 0 or less is unlimited.
func pids(r *specs.LinuxResources, res *cgroup.Resources) error {
	if r.Pids != nil && r.Pids.Limit != nil {
		res.Pids = *r.Pids.Limit
		if res.Pids <= 0 {
			res.Pids = cgroup.Unlimited
		}
	}
	return nil
}

// blockIO sets the block I/O weight; fineBlockIO the weights and throttles of
// single devices.
func blockIO(r *specs.LinuxResources, res *cgroup.Resources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"leafWeight", b.LeafWeight != nil},
	} {
		if f.set {
			return unsupported("linux.resources.blockIO."+f.name, "a Spec has no leaf weight, which only CFQ had")
		}
	}
	if b.Weight != nil {
		res.IOWeight = *b.Weight
	}
	return nil
}

// runcAllowed are the device rules a runtime adds after the configuration's own,
// as runc does: mknod of any node, and access to the default devices, the
// console and the pseudo-terminals.
var runcAllowed = []cgroup.DeviceRule{
	{Allow: true, Type: "c", Major: cgroup.Wildcard, Minor: cgroup.Wildcard, Access: "m"},
	{Allow: true, Type: "b", Major: cgroup.Wildcard, Minor: cgroup.Wildcard, Access: "m"},
	{Allow: true, Type: "c", Major: 1, Minor: 3, Access: "rwm"},                 // null
	{Allow: true, Type: "c", Major: 1, Minor: 5, Access: "rwm"},                 // zero
	{Allow: true, Type: "c", Major: 1, Minor: 7, Access: "rwm"},                 // full
	{Allow: true, Type: "c", Major: 1, Minor: 8, Access: "rwm"},                 // random
	{Allow: true, Type: "c", Major: 1, Minor: 9, Access: "rwm"},                 // urandom
	{Allow: true, Type: "c", Major: 5, Minor: 0, Access: "rwm"},                 // tty
	{Allow: true, Type: "c", Major: 5, Minor: 1, Access: "rwm"},                 // console
	{Allow: true, Type: "c", Major: 5, Minor: 2, Access: "rwm"},                 // ptmx
	{Allow: true, Type: "c", Major: 136, Minor: cgroup.Wildcard, Access: "rwm"}, // pts
}

// deviceRules converts the device cgroup rules, then adds runcAllowed.
func deviceRules(ds []specs.LinuxDeviceCgroup) ([]cgroup.DeviceRule, error) {
	var out []cgroup.DeviceRule
	for i, d := range ds {
		field := fmt.Sprintf("linux.resources.devices[%d]", i)
		r := cgroup.DeviceRule{Allow: d.Allow, Type: d.Type, Major: cgroup.Wildcard, Minor: cgroup.Wildcard, Access: d.Access}
		if r.Type == "" {
			r.Type = "a"
		}
		if r.Access == "" {
			r.Access = "rwm"
		}
		if d.Major != nil {
			r.Major = *d.Major
		}
		if d.Minor != nil {
			r.Minor = *d.Minor
		}
		if err := checkRule(field, r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return append(out, runcAllowed...), nil
}

// checkRule checks a device rule's type, numbers and access.
func checkRule(field string, r cgroup.DeviceRule) error {
	switch r.Type {
	case "a", "b", "c":
	default:
		return invalid(field+".type", "unknown device type %q", r.Type)
	}
	if r.Major < cgroup.Wildcard || r.Minor < cgroup.Wildcard {
		return invalid(field, "negative device number %d:%d", r.Major, r.Minor)
	}
	for _, a := range r.Access {
		if a != 'r' && a != 'w' && a != 'm' {
			return invalid(field+".access", "%q is not a combination of r, w and m", r.Access)
		}
	}
	return nil
}
