package caps

import (
	"math/bits"
	"strings"
)

// Set is a set of capabilities as a bit mask: bit n stands for capability n, as in the
// kernel's kernel_cap_t and the Cap* lines of /proc/PID/status.
type Set uint64

// DockerDefault is the set Docker (moby) grants a container by default: CHOWN, DAC_OVERRIDE,
// FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE,
// SYS_CHROOT, KILL and AUDIT_WRITE (mask 0xa80425fb).
const DockerDefault = PodmanDefault | 1<<NetRaw | 1<<Mknod | 1<<AuditWrite

// PodmanDefault is the set Podman (containers-common) grants by default since 2022:
// DockerDefault without NET_RAW, MKNOD and AUDIT_WRITE.
const PodmanDefault Set = 1<<Chown | 1<<DacOverride | 1<<Fsetid | 1<<Fowner | 1<<Setgid |
	1<<Setuid | 1<<Setfcap | 1<<Setpcap | 1<<NetBindService | 1<<SysChroot | 1<<Kill

// Full returns every capability the running kernel knows, 0 through Last().
func Full() Set {
	l := Last()
	if l >= 63 {
		return ^Set(0)
	}
	return Set(1)<<(l+1) - 1
}

// Of returns the set of the given capabilities.
func Of(cs ...Cap) Set { return Set(0).Add(cs...) }

// Add returns s with cs added. Capabilities outside 0..63 are ignored.
func (s Set) Add(cs ...Cap) Set {
	for _, c := range cs {
		if c >= 0 && c < 64 {
			s |= 1 << c
		}
	}
	return s
}

// Drop returns s without cs.
func (s Set) Drop(cs ...Cap) Set {
	for _, c := range cs {
		if c >= 0 && c < 64 {
			s &^= 1 << c
		}
	}
	return s
}

// Has reports whether c is in s.
func (s Set) Has(c Cap) bool { return c >= 0 && c < 64 && s&(1<<c) != 0 }

// Len returns the number of capabilities in s.
func (s Set) Len() int { return bits.OnesCount64(uint64(s)) }

// List returns the capabilities in s in ascending order, or nil for the empty set.
func (s Set) List() []Cap {
	if s == 0 {
		return nil
	}
	l := make([]Cap, 0, s.Len())
	for m := uint64(s); m != 0; m &= m - 1 {
		l = append(l, Cap(bits.TrailingZeros64(m)))
	}
	return l
}

// Names returns the names of the capabilities in s ("CAP_CHOWN", ...) in ascending order,
// or nil for the empty set.
func (s Set) Names() []string {
	if s == 0 {
		return nil
	}
	l := make([]string, 0, s.Len())
	for _, c := range s.List() {
		l = append(l, c.String())
	}
	return l
}

// String returns the names of the capabilities in s separated by commas, or "" for the
// empty set.
func (s Set) String() string { return strings.Join(s.Names(), ",") }

// ParseSet returns the set of the named capabilities; the forms Parse accepts are allowed,
// and "ALL" (any case) stands for Full(). An unknown name yields the error of Parse.
func ParseSet(names []string) (Set, error) {
	s, _, err := parseSet(names)
	return s, err
}

// parseSet is ParseSet that also returns the name it failed on.
func parseSet(names []string) (Set, string, error) {
	var s Set
	for _, n := range names {
		if strings.EqualFold(n, "ALL") {
			s |= Full()
			continue
		}
		c, err := Parse(n)
		if err != nil {
			return 0, n, err
		}
		s = s.Add(c)
	}
	return s, "", nil
}
