package network

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// A Mode names the way a sandbox reaches the network.
type Mode string

const (
	// None leaves the sandbox's network namespace as it is: its own, with a
	// loopback only, or the one the Spec joins.
	None Mode = ""
	// Slirp4netns is user-mode networking through slirp4netns(1): rootless
	// and rootful alike.
	Slirp4netns Mode = "slirp4netns"
	// Pasta is user-mode networking through pasta(1) (Debian package
	// passt), Podman's default: the sandbox gets a copy of the host's
	// address and routes, and its gateway reaches the host's loopback.
	// Rootless only: pasta run by root drops to nobody before it opens the
	// sandbox's namespaces.
	Pasta Mode = "pasta"
	// Bridge connects the sandbox to a bridge on the host through a veth
	// pair, with an address of the bridge's subnet, NAT for its traffic
	// out and published ports forwarded by nftables rules. Root only.
	Bridge Mode = "bridge"
)

// Defaults of a bridge network.
const (
	// DefaultBridge is the bridge's name.
	DefaultBridge = "paddock0"
	// DefaultSubnet is the bridge's subnet: its first address is the
	// bridge's (the gateway), the others are the sandboxes'.
	DefaultSubnet = "10.89.0.0/24"
)

// PastaDNS is the address that pasta forwards DNS queries from to the host's
// resolvers (--dns-forward), as Podman uses it.
const PastaDNS = "169.254.1.1"

// Addresses that slirp4netns gives the sandbox's side of its network
// (--configure with the default CIDR 10.0.2.0/24).
const (
	// SlirpGateway is the gateway; with HostLoopback it also reaches the
	// host's loopback.
	SlirpGateway = "10.0.2.2"
	// SlirpDNS is the DNS forwarder, which relays to the host's resolvers.
	SlirpDNS = "10.0.2.3"
	// SlirpGuest is the sandbox's address.
	SlirpGuest = "10.0.2.100"
)

// ErrInvalid is what every error of Validate and ParsePort matches.
var ErrInvalid = errors.New("network: invalid")

// A Port publishes a port of the sandbox on the host, as Podman's -p does.
type Port struct {
	// HostIP is the host address the port is bound on; empty means
	// 127.0.0.1, so that a published port is not open to the whole network
	// unless asked for (0.0.0.0).
	HostIP string `json:"hostIP,omitempty"`
	// HostPort is the port on the host, 1..65535.
	HostPort int `json:"hostPort"`
	// Port is the port in the sandbox, 1..65535.
	Port int `json:"port"`
	// Protocol is "tcp" (the default, when empty) or "udp".
	Protocol string `json:"protocol,omitempty"`
}

// Spec is the network of a sandbox.
type Spec struct {
	// Mode is how the sandbox reaches the network; None leaves it without.
	Mode Mode `json:"mode,omitempty"`
	// Ports are published on the host.
	Ports []Port `json:"ports,omitempty"`
	// HostLoopback lets the sandbox reach the host's loopback (127.0.0.1)
	// through the gateway (slirp4netns: SlirpGateway; pasta: the host's
	// default gateway's address, as the sandbox sees it). Off by default, as in Podman: services that listen
	// on the host's loopback only expect local clients.
	HostLoopback bool `json:"hostLoopback,omitempty"`
	// Bridge names the bridge of a bridge network; empty means
	// DefaultBridge.
	Bridge string `json:"bridge,omitempty"`
	// Subnet is the IPv4 subnet of a bridge network (CIDR, /16 to /29);
	// empty means DefaultSubnet. Every sandbox on one bridge must give the
	// same.
	Subnet string `json:"subnet,omitempty"`
}

// Enabled reports whether the Spec gives the sandbox a network.
func (s *Spec) Enabled() bool { return s.Mode != None }

// HostIP returns the host address that p is bound on.
func (p Port) hostIP() string {
	if p.HostIP == "" {
		return "127.0.0.1"
	}
	return p.HostIP
}

// protocol returns p's protocol.
func (p Port) protocol() string {
	if p.Protocol == "" {
		return "tcp"
	}
	return p.Protocol
}

// String formats p as ParsePort reads it.
func (p Port) String() string {
	return fmt.Sprintf("%s:%d:%d/%s", p.hostIP(), p.HostPort, p.Port, p.protocol())
}

// Validate checks the mode, and every port: its numbers, protocol and host
// address, and that no host port is published twice.
func (s *Spec) Validate() error {
	switch s.Mode {
	case None:
		if len(s.Ports) > 0 || s.HostLoopback || s.Bridge != "" || s.Subnet != "" {
			return invalid("ports, host loopback, a bridge and a subnet need a network mode")
		}
		return nil
	case Slirp4netns, Pasta:
		if s.Bridge != "" || s.Subnet != "" {
			return invalid("a bridge and a subnet are a bridge network's, not %s's", s.Mode)
		}
	case Bridge:
		if err := s.validateBridge(); err != nil {
			return err
		}
	default:
		return invalid("unknown mode %q: want %s, %s or %s", s.Mode, Slirp4netns, Pasta, Bridge)
	}
	seen := map[string]bool{}
	for _, p := range s.Ports {
		if err := p.validate(); err != nil {
			return err
		}
		key := p.protocol() + " " + p.hostIP() + " " + strconv.Itoa(p.HostPort)
		if seen[key] {
			return invalid("port %s: host port %d/%s on %s published twice", p, p.HostPort, p.protocol(), p.hostIP())
		}
		seen[key] = true
	}
	return nil
}

// validate checks one port.
func (p Port) validate() error {
	switch {
	case p.HostPort < 1 || p.HostPort > 65535:
		return invalid("port %s: host port %d is outside 1..65535", p, p.HostPort)
	case p.Port < 1 || p.Port > 65535:
		return invalid("port %s: port %d is outside 1..65535", p, p.Port)
	case p.protocol() != "tcp" && p.protocol() != "udp":
		return invalid("port %s: protocol %q is not tcp or udp", p, p.Protocol)
	}
	a, err := netip.ParseAddr(p.hostIP())
	if err != nil || !a.Is4() {
		return invalid("port %s: host address %q is not an IPv4 address", p, p.HostIP)
	}
	return nil
}

// ParsePort reads a published port as Podman's -p writes it:
// [HOSTIP:]HOSTPORT:PORT[/tcp|/udp].
func ParsePort(v string) (Port, error) {
	var p Port
	rest, proto, _ := strings.Cut(v, "/")
	p.Protocol = proto
	parts := strings.Split(rest, ":")
	switch len(parts) {
	case 2:
	case 3:
		p.HostIP, parts = parts[0], parts[1:]
	default:
		return p, invalid("port %q: want [HOSTIP:]HOSTPORT:PORT[/tcp|udp]", v)
	}
	var err error
	if p.HostPort, err = strconv.Atoi(parts[0]); err != nil {
		return p, invalid("port %q: host port %q is not a number", v, parts[0])
	}
	if p.Port, err = strconv.Atoi(parts[1]); err != nil {
		return p, invalid("port %q: port %q is not a number", v, parts[1])
	}
	if err := p.validate(); err != nil {
		return p, err
	}
	return p, nil
}

// ResolvConf returns the resolv.conf that points the sandbox at the DNS
// forwarder of its network; for a bridge network, the host's, without the
// name servers on the host's loopback, which the sandbox cannot reach (as
// Podman does).
func (s *Spec) ResolvConf() []byte {
	switch s.Mode {
	case Pasta:
		return []byte("nameserver " + PastaDNS + "\n")
	case Bridge:
		host, _ := os.ReadFile("/etc/resolv.conf")
		var out []byte
		for _, l := range strings.SplitAfter(string(host), "\n") {
			f := strings.Fields(l)
			if len(f) > 1 && f[0] == "nameserver" && (strings.HasPrefix(f[1], "127.") || f[1] == "::1") {
				continue
			}
			out = append(out, l...)
		}
		return out
	}
	return []byte("nameserver " + SlirpDNS + "\n")
}

// invalid returns an error matching ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
