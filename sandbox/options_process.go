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
