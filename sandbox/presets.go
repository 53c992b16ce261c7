package sandbox

import (
	"sync"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// containerNamespaces are the namespaces every container kind but super-privileged
// creates, as Docker and Podman do.
var containerNamespaces = []namespace.Kind{namespace.Mount, namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.Cgroup}

// baseSpec is what rootful and rootless containers share, Docker's defaults: new
// namespaces, an overlay root (the host's "/" read-only when no image is given),
// the default mounts, masked and read-only paths, the 14 default capabilities,
// the default seccomp profile and no_new_privs; and Podman's default pids limit.
func baseSpec(kind string) *Spec {
	s := &Spec{Kind: kind}
	for _, k := range containerNamespaces {
		s.Namespaces.Set(k, namespace.Config{Mode: namespace.New})
	}
	s.Env = []string{"PATH=" + defaultPath}
	s.Mounts.Defaults = true
	s.Mounts.Masked = append([]string(nil), mounts.DefaultMasked...)
	s.Mounts.ReadOnly = append([]string(nil), mounts.DefaultReadOnly...)
	s.Caps = caps.SpecFromSet(caps.DockerDefault)
	s.Seccomp = Seccomp{Mode: SeccompDefault}
	s.NoNewPrivileges = true
	// Podman's default bound on processes: the pids cgroup where the sandbox has
	// one, RLIMIT_NPROC where it has none.
	s.Cgroup.Resources = &cgroup.Resources{Pids: DefaultPidsLimit}
	s.RlimitFallback = []Limit{LimitPids}
	return s
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// rebase makes base the whole of s, and tells the Builder applying the option
// that it did: a base option (a preset, WithSpec) is the Spec a Builder starts
// from, and the Builder then applies the other options given so far again, in
// order, on top of it.
func rebase(s, base *Spec) {
	if f, ok := rebasing.Load(s); ok {
		*f.(*bool) = true
	}
	*s = *base
}

// rebasing maps the Spec that a Builder is applying an option to, to the flag
// that rebase sets when the option makes a new base.
var rebasing sync.Map

// Rootful is the container started by root without a user namespace: root inside is
// root outside, held in by new namespaces and, with the other packages, by a reduced
// capability set, seccomp, masks and read-only kernel filesystems.
//
// Rootful is a base: given to a Builder, it is the Spec the Builder starts from,
// wherever it stands among the options (see Builder).
func Rootful() Option {
	return func(s *Spec) {
		rebase(s, baseSpec(inspect.KindRootful))
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.Host})
	}
}

// Rootless is the container started by an unprivileged user: a new user namespace in
// which root is the caller's own uid and gid outside. Used by root, whose own uid
// would make it a rootful sandbox with extra steps, it is Podman's --userns=auto
// instead (WithAutoUserNS with the default namespace.AutoRange): root inside is
// the first ID of a block of the subordinate IDs of namespace.AutoUser that no
// other sandbox holds, never host root. Build names the line to add to
// /etc/subuid and /etc/subgid where they grant that user no range.
//
// Rootless is a base, as Rootful is: WithUserNS, WithAutoUserNS or WithoutUserNS
// given to the same Builder, before or after it, replace its user namespace,
// the automatic range included.
func Rootless() Option {
	return func(s *Spec) {
		rebase(s, baseSpec(inspect.KindRootless))
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.New})
		if unix.Geteuid() == 0 {
			s.Namespaces.Auto = &namespace.AutoRange{}
		}
	}
}

// Privileged turns the hardening of the current preset off, as podman's
// --privileged does: every capability, no seccomp filter, no masked or read-only
// kernel filesystems (/sys and /sys/fs/cgroup writable), no no_new_privs, all
// devices, an unconfined SELinux label. The namespaces stay new, and a rootless
// privileged sandbox is still bounded by the caller's user: its capabilities are
// those of its own user namespace.
//
// Privileged is not a base but an ordinary option: it edits the Spec where it
// stands, after the base (Rootful, Rootless, the caller's DefaultSpec) wherever it
// is written. It overrides the options written before it, so give those it must
// not override after it: WithCaps, WithSeccompProfile or WithMask after
// Privileged wins.
func Privileged() Option {
	return func(s *Spec) {
		s.Kind = inspect.KindPrivileged
		s.Privileged = true
		s.Caps = capSpec([]string{"ALL"})
		s.Seccomp = Seccomp{Mode: SeccompUnconfined}
		s.Mounts.Masked, s.Mounts.ReadOnly = nil, nil
		s.NoNewPrivileges = false
		s.Cgroup.AllowAllDevices = true
	}
}

// SuperPrivileged is the super-privileged container (a "SPC"): privileged, with
// only a new mount namespace; the host's pid, net, ipc, uts and cgroup namespaces;
// the host's "/" at /host, and its /run, /var/log and /etc/localtime bound at the
// same places. A rootless caller still gets a user namespace: it cannot have a
// mount namespace otherwise.
//
// SuperPrivileged is a base, as Rootful is; since it shares the host's uts
// namespace, a hostname given to the same Builder makes Build fail.
func SuperPrivileged() Option {
	return func(s *Spec) {
		if unix.Geteuid() == 0 {
			Rootful()(s)
		} else {
			Rootless()(s)
		}
		Privileged()(s)
		s.Kind = inspect.KindSuperPrivileged
		// The host's "/" is at /host anyway, and its /run is bound at /run.
		s.HostRoot = &mounts.HostRoot{}
		for _, k := range []namespace.Kind{namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.Cgroup} {
			s.Namespaces.Set(k, namespace.Config{Mode: namespace.Host})
		}
		s.Mounts.Binds = append(s.Mounts.Binds,
			mounts.Bind{Source: "/", Target: "/host", Recursive: true},
			mounts.Bind{Source: "/run", Target: "/run", Recursive: true},
			mounts.Bind{Source: "/var/log", Target: "/var/log", Recursive: true},
			mounts.Bind{Source: "/etc/localtime", Target: "/etc/localtime"},
		)
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
