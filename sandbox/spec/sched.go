package spec

import (
	"fmt"
	"os"
	"slices"
	"syscall"
	"unsafe"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
)

// Scheduler is the target's scheduling policy and its parameters, as
// sched_setattr(2) takes them and the OCI runtime spec names them.
type Scheduler = plan.Scheduler

// IOPriority is the target's I/O scheduling class and priority (ioprio_set(2)).
type IOPriority = plan.IOPriority

// CPUAffinity are the CPUs the child may run on, in the kernel's list format
// ("0-3,6"): Initial from its first step (joining the cgroup, the namespaces and
// the setup), Final from just before the target runs.
type CPUAffinity = plan.CPUAffinity

// schedPolicies are the scheduling policies by name, with whether they need
// CAP_SYS_NICE over the host.
var schedPolicies = map[string]struct {
	value      uint32
	privileged bool
}{
	"SCHED_OTHER": {0, false}, "SCHED_FIFO": {1, true}, "SCHED_RR": {2, true}, "SCHED_BATCH": {3, false},
	"SCHED_IDLE": {5, false}, "SCHED_DEADLINE": {6, true},
}

// schedFlags are the sched_setattr(2) flags a Scheduler may carry; the
// utilisation clamps, which need values of their own, are left out.
var schedFlags = map[string]uint64{
	"SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
	"SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10,
}

// ioClasses are the I/O scheduling classes by name, with whether they need
// CAP_SYS_ADMIN or CAP_SYS_NICE over the host.
var ioClasses = map[string]struct {
	value      uintptr
	privileged bool
}{"IOPRIO_CLASS_RT": {1, true}, "IOPRIO_CLASS_BE": {2, false}, "IOPRIO_CLASS_IDLE": {3, false}}

// CheckSched checks the scheduler, the I/O priority and the CPU affinity, as
// Build does: a *SpecError names the field ("scheduler.policy",
// "cpuAffinity.final").
func (s *Spec) CheckSched() error { return s.checkSched() }

// checkSched checks the scheduler, the I/O priority and the CPU affinity.
func (s *Spec) checkSched() error {
	userNS := s.Namespaces.Mode(namespace.User) != namespace.Host
	if sc := s.Scheduler; sc != nil {
		if err := checkScheduler(sc, userNS); err != nil {
			return err
		}
	}
	if io := s.IOPriority; io != nil {
		c, ok := ioClasses[io.Class]
		switch {
		case !ok:
			return specErr("ioPriority.class", "%q is not IOPRIO_CLASS_RT, _BE or _IDLE", io.Class)
		case io.Priority < 0 || io.Priority > 7:
			return specErr("ioPriority.priority", "%d is outside 0..7", io.Priority)
		case c.privileged:
			if err := hostCap("ioPriority.class", io.Class, userNS, caps.SysAdmin, caps.SysNice); err != nil {
				return err
			}
		}
	}
	if a := s.CPUAffinity; a != nil {
		for _, l := range []struct{ field, list string }{{"cpuAffinity.initial", a.Initial}, {"cpuAffinity.final", a.Final}} {
			if _, err := affinityMask(l.list); err != nil {
				return &SpecError{Field: l.field, Err: err}
			}
		}
	}
	return nil
}

// checkScheduler checks a scheduler's policy, parameters and flags, and that
// the child may set it: a realtime or deadline policy, or a nice value below
// the caller's, needs CAP_SYS_NICE over the host.
func checkScheduler(sc *Scheduler, userNS bool) error {
	p, ok := schedPolicies[sc.Policy]
	if !ok {
		return specErr("scheduler.policy", "%q is not one of SCHED_OTHER, _FIFO, _RR, _BATCH, _IDLE, _DEADLINE", sc.Policy)
	}
	realtime := sc.Policy == "SCHED_FIFO" || sc.Policy == "SCHED_RR"
	switch {
	case sc.Nice < -20 || sc.Nice > 19:
		return specErr("scheduler.nice", "%d is outside -20..19", sc.Nice)
	case realtime && (sc.Priority < 1 || sc.Priority > 99):
		return specErr("scheduler.priority", "%d is outside 1..99, which %s needs", sc.Priority, sc.Policy)
	case !realtime && sc.Priority != 0:
		return specErr("scheduler.priority", "%d: %s takes none", sc.Priority, sc.Policy)
	case sc.Policy == "SCHED_DEADLINE" && !(sc.Runtime >= 1024 && sc.Runtime <= sc.Deadline && (sc.Period == 0 || sc.Deadline <= sc.Period)):
		return specErr("scheduler", "SCHED_DEADLINE needs 1024 ns <= runtime <= deadline <= period (or no period)")
	case sc.Policy != "SCHED_DEADLINE" && (sc.Runtime != 0 || sc.Deadline != 0 || sc.Period != 0):
		return specErr("scheduler", "runtime, deadline and period are SCHED_DEADLINE's")
	}
	for i, f := range sc.Flags {
		if _, ok := schedFlags[f]; !ok {
			return specErr(fmt.Sprintf("scheduler.flags[%d]", i), "%q is not a flag Paddock sets", f)
		}
	}
	if p.privileged {
		return hostCap("scheduler.policy", sc.Policy, userNS, caps.SysNice)
	}
	if own, err := callerNice(); err != nil || int(sc.Nice) < own {
		return hostCap("scheduler.nice", fmt.Sprintf("%d, below the caller's %d", sc.Nice, own), userNS, caps.SysNice)
	}
	return nil
}

// hostCap checks that the child may do what needs one of the capabilities cs
// over the host: the caller has it, and no user namespace of the sandbox's
// stands between.
func hostCap(field, what string, userNS bool, cs ...caps.Cap) error {
	sets, err := caps.Inspect(os.Getpid())
	if err != nil {
		return &SpecError{NotSupported: true, Field: field, Err: err}
	}
	if !slices.ContainsFunc(cs, sets.Effective.Has) {
		return &SpecError{NotSupported: true, Field: field, Err: fmt.Errorf("%s needs %s, which the caller lacks", what, caps.Of(cs...))}
	}
	if userNS {
		return &SpecError{NotSupported: true, Field: field, Err: fmt.Errorf("%s needs %s over the host: the child sets it in its own user namespace, where it has none", what, caps.Of(cs...))}
	}
	return nil
}

// callerNice returns the calling thread's nice value.
func callerNice() (int, error) {
	// getpriority(2) returns 20 - nice, as the raw system call does.
	p, _, e := syscall.RawSyscall(syscall.SYS_GETPRIORITY, syscall.PRIO_PROCESS, 0, 0)
	if e != 0 {
		return 0, e
	}
	return 20 - int(p), nil
}

// SchedAttr is struct sched_attr (SCHED_ATTR_SIZE_VER0) as sched_setattr(2)
// reads it.
type SchedAttr struct {
	Size     uint32
	Policy   uint32
	Flags    uint64
	Nice     int32
	Priority uint32
	Runtime  uint64
	Deadline uint64
	Period   uint64
}

// SchedAttrOf returns the sched_attr of a checked Scheduler.
func SchedAttrOf(sc *Scheduler) *SchedAttr {
	a := &SchedAttr{Policy: schedPolicies[sc.Policy].value, Nice: sc.Nice, Priority: uint32(sc.Priority),
		Runtime: sc.Runtime, Deadline: sc.Deadline, Period: sc.Period}
	a.Size = uint32(unsafe.Sizeof(*a))
	for _, f := range sc.Flags {
		a.Flags |= schedFlags[f]
	}
	return a
}

// IOPriorityValue returns the ioprio_set(2) value of a checked IOPriority.
func IOPriorityValue(io *IOPriority) uintptr {
	return ioClasses[io.Class].value<<13 | uintptr(io.Priority)
}

// AffinityMask returns the CPU mask of a checked CPU list, nil for "".
func AffinityMask(list string) []byte {
	m, _ := affinityMask(list)
	return m
}

// affinityMask checks a CPU list against the CPUs online and returns it as a
// cpu_set_t of 8-byte words, nil for "".
func affinityMask(list string) ([]byte, error) {
	if list == "" {
		return nil, nil
	}
	cpus, err := cgroup.ParseCPUList(list)
	if err != nil {
		return nil, err
	}
	online, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, err
	}
	on, err := cgroup.ParseCPUList(string(online))
	if err != nil {
		return nil, err
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("%q lists no CPU", list)
	}
	m := make([]byte, (cpus[len(cpus)-1]/64+1)*8)
	for _, c := range cpus {
		if !slices.Contains(on, c) {
			return nil, fmt.Errorf("CPU %d of %q is not online", c, list)
		}
		m[c/8] |= 1 << (c % 8)
	}
	return m, nil
}
