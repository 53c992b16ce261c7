package spec

import (
	"errors"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/network"
)

// checkNetwork checks the network's values, and that it has what it needs: a
// new network namespace of each start's own, fork mode, and no parent that
// gives the sandbox up; and that caller c may run its helper.
func (s *Spec) checkNetwork(c ids) error {
	n := &s.Network
	if err := n.Validate(); err != nil {
		return &SpecError{Field: "network", Err: err}
	}
	if !n.Enabled() {
		return nil
	}
	switch {
	case s.Namespaces.Mode(namespace.Net) != namespace.New:
		return specErr("network", "%s needs a new network namespace; the Spec has none", n.Mode)
	case s.SharedNetNS:
		return specErr("network", "%s serves the network namespace of one start; the Spec shares one among all (sharedNetNS)", n.Mode)
	}
	if n.Mode == network.Bridge && c.uid != 0 {
		return &SpecError{NotSupported: true, Field: "network", Err: errors.New("a bridge network needs root: it creates interfaces and firewall rules on the host; use slirp4netns or pasta")}
	}
	if n.Mode == network.Pasta && c.uid == 0 {
		return &SpecError{NotSupported: true, Field: "network", Err: errors.New("pasta run by root drops to nobody before it opens the sandbox's namespaces: use slirp4netns")}
	}
	if _, err := n.Probe(); err != nil {
		return &SpecError{NotSupported: true, Field: "network", Err: err}
	}
	return nil
}
