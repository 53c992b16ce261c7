package sandbox

import (
	"fmt"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
)

// WithCaps sets the target's capabilities to exactly names (bounding, effective
// and permitted; no inheritable or ambient ones), as Docker does. Names are
// "CAP_NET_RAW", "net_raw" or "ALL".
func WithCaps(names ...string) Option {
	return func(s *Spec) { s.Caps = capSpec(names) }
}

// WithCapAdd adds capabilities to the bounding, effective and permitted sets
// (podman's --cap-add).
func WithCapAdd(names ...string) Option {
	return func(s *Spec) {
		s.Caps.Bounding = appendNew(s.Caps.Bounding, names...)
		s.Caps.Effective = appendNew(s.Caps.Effective, names...)
		s.Caps.Permitted = appendNew(s.Caps.Permitted, names...)
	}
}

// WithCapDrop removes capabilities from every set ("ALL" drops them all). A name
// that is no capability makes Build fail, as it does for WithCapAdd.
func WithCapDrop(names ...string) Option {
	return func(s *Spec) {
		for _, n := range names {
			if _, err := caps.Parse(n); err != nil && !strings.EqualFold(n, "ALL") {
				s.OptionError("capabilities", fmt.Errorf("drop %q: %v", n, err))
			}
		}
		for _, set := range []*[]string{&s.Caps.Bounding, &s.Caps.Effective, &s.Caps.Permitted, &s.Caps.Inheritable, &s.Caps.Ambient} {
			*set = dropCaps(*set, names)
		}
	}
}

// WithAmbientCaps raises capabilities into the ambient set (and the inheritable and
// permitted sets it requires), so that a non-root target keeps them across execve.
func WithAmbientCaps(names ...string) Option {
	return func(s *Spec) {
		s.Caps.Ambient = appendNew(s.Caps.Ambient, names...)
		s.Caps.Inheritable = appendNew(s.Caps.Inheritable, names...)
		s.Caps.Permitted = appendNew(s.Caps.Permitted, names...)
		s.Caps.Effective = appendNew(s.Caps.Effective, names...)
		s.Caps.Bounding = appendNew(s.Caps.Bounding, names...)
	}
}

func capSpec(names []string) caps.Spec {
	return caps.Spec{
		Bounding:  append([]string(nil), names...),
		Effective: append([]string(nil), names...),
		Permitted: append([]string(nil), names...),
	}
}

// dropCaps removes names from list, comparing parsed capabilities so that
// "net_raw" drops "CAP_NET_RAW"; "ALL" empties the list.
func dropCaps(list, names []string) []string {
	var out []string
	for _, l := range list {
		keep := true
		lc, lerr := caps.Parse(l)
		for _, n := range names {
			if strings.EqualFold(n, "ALL") {
				keep = false
				continue
			}
			if nc, err := caps.Parse(n); err == nil && lerr == nil && nc == lc {
				keep = false
			}
		}
		if keep {
			out = append(out, l)
		}
	}
	return out
}

// WithSeccompProfile filters the target's system calls with profile, compiled once
// in Build.
func WithSeccompProfile(profile seccomp.Profile) Option {
	return func(s *Spec) { s.Seccomp = Seccomp{Mode: SeccompCustom, Profile: &profile} }
}

// WithDefaultSeccomp uses Docker's default profile (the default of every preset but
// the privileged ones), resolved against the sandbox's capabilities.
func WithDefaultSeccomp() Option { return func(s *Spec) { s.Seccomp = Seccomp{Mode: SeccompDefault} } }

// WithPodmanSeccomp uses Podman's variant of the default profile: ENOSYS instead of
// EPERM for system calls the profile does not know.
func WithPodmanSeccomp() Option { return func(s *Spec) { s.Seccomp = Seccomp{Mode: SeccompPodman} } }

// WithoutSeccomp runs the target without a system call filter (seccomp=unconfined).
func WithoutSeccomp() Option { return func(s *Spec) { s.Seccomp = Seccomp{Mode: SeccompUnconfined} } }

// WithNoNewPrivileges sets or clears PR_SET_NO_NEW_PRIVS (on by default for the
// non-privileged presets).
func WithNoNewPrivileges(on bool) Option { return func(s *Spec) { s.NoNewPrivileges = on } }

// WithLandlock confines the target's filesystem access to rules (paths as the
// sandbox sees them). On a kernel without Landlock the rules are skipped, unless
// strict is set, in which case Build fails with ErrNotSupported.
func WithLandlock(strict bool, rules ...landlock.Rule) Option {
	return func(s *Spec) {
		s.Landlock.Rules = append(s.Landlock.Rules, rules...)
		s.Landlock.Strict = s.Landlock.Strict || strict
	}
}

// WithSELinuxLabel sets parts of the sandbox's SELinux label (podman's
// --security-opt label=type:T,level:L): empty arguments keep the defaults
// (container_t and a unique pair of MCS categories). On a host without SELinux,
// Build fails with ErrNotSupported: a label that was asked for is never dropped
// silently.
func WithSELinuxLabel(typ, level string) Option {
	return func(s *Spec) { s.Label.Type, s.Label.Level, s.Label.Disable = typ, level, false }
}

// WithoutSELinux runs the sandbox without a label of its own (label=disable).
func WithoutSELinux() Option { return func(s *Spec) { s.Label = selinux.Spec{Disable: true} } }
