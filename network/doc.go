// Package network gives a sandbox's own network namespace a way out.
//
// A new network namespace holds nothing but its loopback. A rootless caller
// cannot create a veth pair to the host (that needs CAP_NET_ADMIN over the
// host's namespace), so the way out is a user-mode network stack: a process
// of the caller's, slirp4netns, joins the sandbox's user and network
// namespaces, creates a tap device there and configures it (10.0.2.100/24,
// gateway 10.0.2.2, DNS 10.0.2.3), and then serves it from outside: every
// packet the sandbox sends to the tap is turned into a socket call of the
// helper's on the host, so the sandbox reaches what the caller reaches, with
// the caller's rights. Published ports (Port) are sockets the helper listens
// on, on the host, forwarded into the namespace.
//
// The helper is started by the sandbox's parent between the clone and the
// target's exec, while the child waits, and stopped with the sandbox; it
// also exits when the parent dies (its exit descriptor closes with the
// parent).
package network
