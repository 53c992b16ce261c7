package oci

import (
	"fmt"
	"math"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/namespace"
)

// linuxOther converts the rest of the linux object: time offsets, and the
// settings a Spec has no place for (sysctl, network devices, Intel RDT, memory
// policy) or holds only as the caller's (personality).
func (c *converter) linuxOther() error {
	l := c.linux
	switch {
	case len(l.Sysctl) > 0:
		keys := make([]string, 0, len(l.Sysctl))
		for k := range l.Sysctl {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return unsupported("linux.sysctl", "%v: a Spec sets no sysctl", keys)
	case len(l.NetDevices) > 0:
		return unsupported("linux.netDevices", "a Spec moves no network device into the sandbox")
	case l.IntelRdt != nil:
		return unsupported("linux.intelRdt", "a Spec has no resctrl settings")
	case l.MemoryPolicy != nil:
		return unsupported("linux.memoryPolicy", "a Spec sets no NUMA memory policy")
	}
	if err := c.personality(); err != nil {
		return err
	}
	return c.timeOffsets()
}

// personality accepts the execution domain that the sandbox inherits from the
// caller, and no other: a Spec sets none.
func (c *converter) personality() error {
	p := c.linux.Personality
	if p == nil {
		return nil
	}
	if p.Domain != specs.PerLinux {
		return unsupported("linux.personality.domain", "%s: a Spec sets no personality; the sandbox inherits the caller's, LINUX", p.Domain)
	}
	if len(p.Flags) > 0 {
		return unsupported("linux.personality.flags", "%v: a Spec sets no personality flags", p.Flags)
	}
	own, err := callerPersonality()
	if err != nil || own != 0 {
		return unsupported("linux.personality", "the sandbox inherits the caller's personality, which is not plain LINUX (%#x, %v)", own, err)
	}
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
