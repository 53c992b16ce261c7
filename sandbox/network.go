package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/network"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// The network of a sandbox (Spec.Network). Each start gets a new network
// namespace by its clone (Build refuses a plan that makes it later); the
// parent, which writes the ID maps while the child waits
// (child.KindWaitParent), checks that the child's network namespace is not
// its own, then starts the user-mode helper for it and waits until the
// namespace is configured, or connects it to its bridge; it publishes the
// ports, and only then releases the child: the target never runs without
// its network. The helper, or the bridge's link, belongs to the Process:
// Wait and a failed Start stop it; a helper exits by itself when the
// parent dies, and a dead parent's part of a bridge is reclaimed.
//
// The resolv.conf that points the sandbox at the helper's DNS forwarder is a
// file that Build writes in a directory of the Template's, which each start's
// child binds on /etc/resolv.conf, as Podman binds a resolv.conf of its own;
// Close removes it, and Reclaim does where the process died. (An unnamed
// file, O_TMPFILE, cannot be bound: the descriptor's mount is the caller's,
// not the copy in the child's mount namespace, and open_tree refuses it.)

// A Network is a way out of the sandbox's network namespace, for
// WithNetwork: NetUserMode or NetBridge.
type Network interface {
	// spec returns the Spec's network.
	spec() network.Spec
}

// NetUserMode is user-mode networking (Spec.Network): a helper of the
// caller's (slirp4netns; pasta for a caller other than root) carries the
// sandbox's traffic through sockets of its own on the host, rootless and
// rootful alike.
type NetUserMode struct {
	// Helper is the helper program, network.Slirp4netns (the default, when
	// empty) or network.Pasta.
	Helper network.Mode
	// Ports are published on the host (Podman's -p).
	Ports []network.Port
	// HostLoopback lets the sandbox reach the host's loopback through the
	// gateway.
	HostLoopback bool
}

func (n NetUserMode) spec() network.Spec {
	mode := n.Helper
	if mode == network.None {
		mode = network.Slirp4netns
	}
	return network.Spec{Mode: mode, Ports: append([]network.Port(nil), n.Ports...), HostLoopback: n.HostLoopback}
}

// NetBridge is a bridge network (Spec.Network), for root: a veth pair from
// the sandbox's eth0 to a bridge on the host, an address of the bridge's
// subnet, NAT out of it and published ports forwarded by nftables rules.
type NetBridge struct {
	// Bridge is the bridge's name; empty means network.DefaultBridge.
	Bridge string
	// Subnet is its IPv4 subnet; empty means network.DefaultSubnet.
	Subnet string
	// Ports are published on the host (Podman's -p).
	Ports []network.Port
}

func (n NetBridge) spec() network.Spec {
	return network.Spec{Mode: network.Bridge, Bridge: n.Bridge, Subnet: n.Subnet, Ports: append([]network.Port(nil), n.Ports...)}
}

// WithNetwork gives the sandbox a new network namespace with a way out, n:
// user-mode networking or a bridge, with published ports and a resolv.conf
// that the sandbox can use. Build checks the values and that the helper is
// installed.
func WithNetwork(n Network) Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.Net, namespace.Config{Mode: namespace.New})
		s.Network = n.spec()
	}
}

// resolvConfTarget is where the sandbox's resolv.conf is bound.
const resolvConfTarget = "/etc/resolv.conf"

// compileNetwork finds the helper program and, for a sandbox that builds its
// filesystem, writes its resolv.conf and returns the bind of it that the
// mounts get.
func (t *Template) compileNetwork() (*mounts.Bind, error) {
	n := &t.spec.Network
	if !n.Enabled() {
		return nil, nil
	}
	path, err := n.Probe()
	if err != nil {
		return nil, &SpecError{NotSupported: true, Field: "network", Err: err}
	}
	if by := t.plan.Get(namespace.Net).By; by != plan.ByClone {
		// The parent sets the network up before the child runs any step:
		// a namespace that the child makes later (a joined user namespace
		// owns it) is not there yet.
		return nil, &SpecError{NotSupported: true, Field: "network", Err: fmt.Errorf("the network namespace is made by %s, after the parent sets the network up; it needs one made by clone3", by)}
	}
	t.netHelper = path
	if !t.spec.BuildsFilesystem() || t.spec.NoRootfs {
		return nil, nil
	}
	if err := t.writeResolvConf(n.ResolvConf()); err != nil {
		return nil, &SpecError{NotSupported: true, Field: "network", Err: err}
	}
	return &mounts.Bind{Source: filepath.Join(t.netDir, resolvConfName), Target: resolvConfTarget, ReadOnly: true}, nil
}

// resolvConfName is the name of the resolv.conf in the Template's network
// directory; owner.Reclaim removes it with the directory.
const resolvConfName = owner.ResolvConfName

// writeResolvConf writes data into resolv.conf in a directory of the
// Template's, named as staging directories are, so that Reclaim removes it
// if this process dies; both may be read by the sandbox's root, whoever it
// is on the host.
func (t *Template) writeResolvConf(data []byte) error {
	dir, err := os.MkdirTemp("", stagingPrefix+owner.Hold()+"-")
	if err != nil {
		owner.Drop()
		return fmt.Errorf("resolv.conf: %w", err)
	}
	t.netDir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("resolv.conf: %w", err)
	}
	f := filepath.Join(dir, resolvConfName)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		return fmt.Errorf("resolv.conf: %w", err)
	}
	return os.Chmod(f, 0o644)
}

// removeNetDir removes the Template's network directory, if any.
func (t *Template) removeNetDir() {
	if t.netDir == "" {
		return
	}
	os.Remove(filepath.Join(t.netDir, resolvConfName))
	os.Remove(t.netDir)
	owner.Drop()
}

// startNetwork starts the network helper of the waiting child pid.
func (p *Process) startNetwork(pid int) error {
	t := p.tmpl
	if t.netHelper == "" {
		return nil
	}
	if err := ownNetNS(pid); err != nil {
		return &ChildError{Stage: "network", Step: "check the sandbox's network namespace", Op: -1, Errno: child.ErrnoOf(err), cause: err}
	}
	h, err := t.spec.Network.Start(t.netHelper, pid, t.userNS, p.deadline)
	if err != nil {
		step := "start " + string(t.spec.Network.Mode) + " for the sandbox's network namespace"
		if t.spec.Network.Mode == network.Bridge {
			step = "connect the sandbox's network namespace to its bridge"
		}
		return &ChildError{Stage: "network", Step: step, Op: -1, Errno: child.ErrnoOf(err), cause: err}
	}
	p.net = h
	return nil
}

// ownNetNS checks that pid is in a network namespace other than this
// process's, so that nothing meant for the sandbox is set up on the host.
func ownNetNS(pid int) error {
	var self, sb unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
		return err
	}
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &sb); err != nil {
		return err
	}
	if self.Ino == sb.Ino && self.Dev == sb.Dev {
		return fmt.Errorf("the sandbox %d is in this process's network namespace: %w", pid, unix.EEXIST)
	}
	return nil
}

// stopNetwork stops the network helper of this sandbox, if it has one.
func (p *Process) stopNetwork() {
	p.net.Stop()
	p.net = nil
}
