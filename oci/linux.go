package oci

import (
	"errors"
	"fmt"
	"math"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/sandbox/spec"
)

// linuxOther converts the rest of the linux object: sysctls, personality and
// time offsets, and refuses the settings a Spec has no place for (network
// devices, Intel RDT, memory policy).
func (c *converter) linuxOther() error {
	l := c.linux
	switch {
	case len(l.NetDevices) > 0:
		return unsupported("linux.netDevices", "a Spec moves no network device into the sandbox")
	case l.IntelRdt != nil:
		return unsupported("linux.intelRdt", "a Spec has no resctrl settings")
	case l.MemoryPolicy != nil:
		return unsupported("linux.memoryPolicy", "a Spec sets no NUMA memory policy")
	}
	if err := c.sysctl(); err != nil {
		return err
	}
	if err := c.personality(); err != nil {
		return err
	}
	return c.timeOffsets()
}

// sysctl sets the sysctls, each checked as runc checks them: a name of a
// namespace that the container has of its own (net.* with a network namespace,
// the System V IPC and POSIX message queue ones with an ipc namespace,
// kernel.domainname with a uts namespace), not kernel.hostname, which the
// hostname field sets.
func (c *converter) sysctl() error {
	keys := make([]string, 0, len(c.linux.Sysctl))
	for k := range c.linux.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := "linux.sysctl." + k
		dotted, _, err := spec.SysctlPath(k)
		if err != nil {
			return invalidErr(field, err)
		}
		ns, ok := spec.SysctlNamespace(dotted)
		switch {
		case !ok:
			return unsupported(field, "not in a namespace of the container's own: it would change the whole host")
		case dotted == "kernel.hostname":
			return invalid(field, "the hostname field sets it")
		case !c.ownNS(ns):
			return unsupported(field, "belongs to the %s namespace, which the container shares with the host", ns)
		}
		if c.spec.Sysctl == nil {
			c.spec.Sysctl = make(map[string]string, len(keys))
		}
		c.spec.Sysctl[k] = c.linux.Sysctl[k]
	}
	return c.checkSysctl()
}

// checkSysctl checks the sysctls as Build will (a /proc to write them through,
// a root that may write those of a uts namespace), naming the configuration's
// field.
func (c *converter) checkSysctl() error {
	var se *spec.SpecError
	if err := c.spec.CheckSysctl(); errors.As(err, &se) {
		field := "linux." + se.Field
		if se.NotSupported {
			return &FieldError{Field: field, Err: fmt.Errorf("%w: %w", sandbox.ErrNotSupported, se.Err)}
		}
		return invalidErr(field, se.Err)
	} else if err != nil {
		return invalidErr("linux.sysctl", err)
	}
	return nil
}

// ownNS reports whether the container has a namespace of kind k of its own: a
// new one, or a joined one (runc does not check that a joined one is not the
// host's; Build does).
func (c *converter) ownNS(k namespace.Kind) bool {
	m := c.spec.Namespaces.Mode(k)
	return m == namespace.New || m == namespace.Join
}

// personality sets the execution domain, LINUX or LINUX32; the runtime spec
// defines no flag.
func (c *converter) personality() error {
	p := c.linux.Personality
	if p == nil {
		return nil
	}
	if p.Domain != specs.PerLinux && p.Domain != specs.PerLinux32 {
		return invalid("linux.personality.domain", "%s: the domains are LINUX and LINUX32", p.Domain)
	}
	if len(p.Flags) > 0 {
		return unsupported("linux.personality.flags", "%v: the runtime spec defines no flag, and Paddock sets none", p.Flags)
	}
	c.spec.Personality = string(p.Domain)
	return nil
}

// timeOffsets sets the clock offsets of a new time namespace.
func (c *converter) timeOffsets() error {
	offs := c.linux.TimeOffsets
	if len(offs) == 0 {
		return nil
	}
	if !c.newNS(namespace.Time) {
		return invalid("linux.timeOffsets", "clock offsets need a new time namespace")
	}
	t := &namespace.TimeOffsets{}
	for _, clock := range []string{"monotonic", "boottime"} {
		o, ok := offs[clock]
		if !ok {
			continue
		}
		ns, err := nanoseconds(o)
		if err != nil {
			return invalid("linux.timeOffsets."+clock, "%v", err)
		}
		if clock == "monotonic" {
			t.Monotonic = ns
		} else {
			t.Boottime = ns
		}
	}
	for k := range offs {
		if k != "monotonic" && k != "boottime" {
			return invalid("linux.timeOffsets."+k, "unknown clock: a time namespace shifts monotonic and boottime")
		}
	}
	c.spec.Namespaces.Time = t
	return nil
}

// nanoseconds returns an offset in nanoseconds.
func nanoseconds(o specs.LinuxTimeOffset) (int64, error) {
	if o.Nanosecs >= 1e9 {
		return 0, fmt.Errorf("nanosecs %d is a second or more", o.Nanosecs)
	}
	if o.Secs > math.MaxInt64/int64(1e9)-1 || o.Secs < math.MinInt64/int64(1e9)+1 {
		return 0, fmt.Errorf("secs %d is out of range", o.Secs)
	}
	return o.Secs*1e9 + int64(o.Nanosecs), nil
}
