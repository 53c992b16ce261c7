package sandbox

import (
	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// Kind names of the presets.
const (
	KindRootful         = "rootful"
	KindRootless        = "rootless"
	KindPrivileged      = "privileged"
	KindSuperPrivileged = "super-privileged"
)

// containerNamespaces are the namespaces every container kind but super-privileged
// creates, as Docker and Podman do.
var containerNamespaces = []namespace.Kind{namespace.Mount, namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.Cgroup}

func baseSpec(kind string) *Spec {
	s := &Spec{Kind: kind}
	for _, k := range containerNamespaces {
		s.Namespaces.Set(k, namespace.Config{Mode: namespace.New})
	}
	s.Env = []string{"PATH=" + defaultPath}
	return s
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Rootful is the container started by root without a user namespace: root inside is
// root outside, held in by new namespaces and, with the other packages, by a reduced
// capability set, seccomp, masks and read-only kernel filesystems.
func Rootful() Option {
	return func(s *Spec) {
		*s = *baseSpec(KindRootful)
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.Host})
	}
}

// Rootless is the container started by an unprivileged user: a new user namespace in
// which root is the caller's own uid and gid outside.
func Rootless() Option {
	return func(s *Spec) {
		*s = *baseSpec(KindRootless)
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.New})
	}
}

// DefaultSpec returns the Spec that fits the caller: rootful for root, rootless for
// anyone else.
func DefaultSpec() *Spec {
	s := &Spec{}
	if unix.Geteuid() == 0 {
		Rootful()(s)
	} else {
		Rootless()(s)
	}
	return s
}
