package sandbox

import "github.com/paddock-sandbox/paddock/sandbox/spec"

// The execution domains of WithPersonality.
const (
	PersonalityLinux   = spec.PersonalityLinux
	PersonalityLinux32 = spec.PersonalityLinux32
)

// WithSysctl sets the kernel parameter name ("net.ipv4.ping_group_range") to
// value in the sandbox before the target runs. Build refuses a sysctl of the
// whole host and one of a namespace (network, ipc, uts) that the sandbox shares
// with the host, as runc does, and a Spec that mounts no /proc to write it
// through.
func WithSysctl(name, value string) Option {
	return func(s *Spec) {
		if s.Sysctl == nil {
			s.Sysctl = make(map[string]string)
		}
		s.Sysctl[name] = value
	}
}

// WithUmask sets the target's file mode creation mask.
func WithUmask(mask uint32) Option { return func(s *Spec) { s.Umask = &mask } }

// WithOOMScoreAdj sets the target's OOM score adjustment (-1000..1000). Build
// refuses a value below the caller's own unless the caller has CAP_SYS_RESOURCE
// and the sandbox no user namespace of its own.
func WithOOMScoreAdj(score int) Option { return func(s *Spec) { s.OOMScoreAdj = &score } }

// WithPersonality sets the target's execution domain, PersonalityLinux or
// PersonalityLinux32.
func WithPersonality(domain string) Option { return func(s *Spec) { s.Personality = domain } }

// Scheduler is a scheduling policy and its parameters (see WithScheduler).
type Scheduler = spec.Scheduler

// IOPriority is an I/O class and priority (see WithIOPriority).
type IOPriority = spec.IOPriority

// CPUAffinity are the CPU lists of WithCPUAffinity.
type CPUAffinity = spec.CPUAffinity

// WithScheduler sets the target's scheduling policy (sched_setattr(2)). Build
// refuses a realtime or deadline policy, or a nice value below the caller's,
// unless the caller has CAP_SYS_NICE and the sandbox no user namespace of its
// own.
func WithScheduler(sc Scheduler) Option {
	return func(s *Spec) { sc.Flags = append([]string(nil), sc.Flags...); s.Scheduler = &sc }
}

// WithIOPriority sets the target's I/O class ("IOPRIO_CLASS_BE",
// "IOPRIO_CLASS_IDLE", or "IOPRIO_CLASS_RT", which needs CAP_SYS_ADMIN or
// CAP_SYS_NICE over the host) and priority (0..7).
func WithIOPriority(class string, priority int) Option {
	return func(s *Spec) { s.IOPriority = &IOPriority{Class: class, Priority: priority} }
}

// WithCPUAffinity restricts the CPUs (lists such as "0-3,6") that the child's
// setup runs on (initial) and that the target runs on (final); "" leaves one
// as it is.
func WithCPUAffinity(initial, final string) Option {
	return func(s *Spec) { s.CPUAffinity = &CPUAffinity{Initial: initial, Final: final} }
}
