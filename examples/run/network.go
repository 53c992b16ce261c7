package main

import (
	"flag"
	"fmt"

	"github.com/paddock-sandbox/paddock/network"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// networkFlags adds the flags of the sandbox's network beside --net.
func networkFlags(fs *flag.FlagSet, o *options) {
	usage := "publish a port of the sandbox on the host, [HOSTIP:]HOSTPORT:PORT[/tcp|udp], HOSTIP 127.0.0.1 by default (repeatable; needs --net slirp4netns, pasta or bridge)"
	fs.Var(&o.publish, "p", usage)
	fs.Var(&o.publish, "publish", usage)
}

// networkOptions turns --net slirp4netns, pasta or bridge, and -p, into
// options. It returns the
// value that --net leaves for the namespace flags: "" for a user-mode
// network, which makes its own namespace.
func networkOptions(o *options) (string, []sandbox.Option, error) {
	var ports []network.Port
	for _, v := range o.publish {
		p, err := network.ParsePort(v)
		if err != nil {
			return "", nil, fmt.Errorf("-p %q: %w", v, err)
		}
		ports = append(ports, p)
	}
	switch o.netMode {
	case string(network.Slirp4netns), string(network.Pasta):
		return "", []sandbox.Option{sandbox.WithNetwork(sandbox.NetUserMode{Helper: network.Mode(o.netMode), Ports: ports})}, nil
	case string(network.Bridge):
		return "", []sandbox.Option{sandbox.WithNetwork(sandbox.NetBridge{Ports: ports})}, nil
	}
	if len(ports) > 0 {
		return "", nil, fmt.Errorf("-p needs a network to publish from: --net slirp4netns, pasta or bridge")
	}
	return o.netMode, nil, nil
}
