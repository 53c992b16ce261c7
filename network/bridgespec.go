package network

import (
	"net/netip"
	"regexp"
)

// bridgeName is what a bridge's name may be: an interface name of the
// characters that need no quoting in nft's rules.
var bridgeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,14}$`)

// validateBridge checks a bridge network's name and subnet.
func (s *Spec) validateBridge() error {
	if s.HostLoopback {
		return invalid("a bridge network reaches the host at its gateway's address; host loopback is a user-mode network's")
	}
	if !bridgeName.MatchString(s.bridge()) {
		return invalid("bridge name %q: want a letter then up to 14 letters, digits or underscores", s.Bridge)
	}
	_, err := s.subnet()
	return err
}

// bridge returns the bridge's name.
func (s *Spec) bridge() string {
	if s.Bridge == "" {
		return DefaultBridge
	}
	return s.Bridge
}

// subnet returns the bridge's subnet, checked.
func (s *Spec) subnet() (netip.Prefix, error) {
	v := s.Subnet
	if v == "" {
		v = DefaultSubnet
	}
	p, err := netip.ParsePrefix(v)
	switch {
	case err != nil:
		return p, invalid("subnet %q: %v", v, err)
	case !p.Addr().Is4():
		return p, invalid("subnet %q is not IPv4", v)
	case p.Masked() != p:
		return p, invalid("subnet %q has host bits set: want %s", v, p.Masked())
	case p.Bits() < 16 || p.Bits() > 29:
		return p, invalid("subnet %q: want a prefix of /16 to /29", v)
	}
	return p, nil
}

// Gateway returns the address of a bridge network's bridge, the sandboxes'
// gateway: the first of its subnet.
func (s *Spec) Gateway() netip.Addr {
	p, _ := s.subnet()
	return p.Addr().Next()
}
