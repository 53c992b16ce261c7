package exposure

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// Mechanisms is plain data describing what a sandbox puts in force against its
// process: the input of Evaluate. The zero value is an unconfined process of the
// host (root in the initial user namespace with no capabilities, every namespace
// shared, no filter). It may be built by hand, by the preset constructors, or
// derived from a sandbox Spec or from a live process.
type Mechanisms struct {
	// Name labels the configuration in reports ("rootful").
	Name string `json:"name"`
	// UserNS is namespace.New when the sandbox runs in its own user namespace,
	// namespace.Host (or "") when in the initial one.
	UserNS namespace.Mode `json:"userns"`
	// RootUID is the host uid that root inside the sandbox maps to (0 when UserNS
	// is Host). Informational: reports show it.
	RootUID int `json:"rootUID"`
	// MapsHostRoot is set when the user namespace maps some uid inside to host uid
	// 0, as a root caller's single own-ID map does (0 0 1): the process's file
	// accesses are then checked as host root's, so files and device nodes owned by
	// host root stay open to it through their owner permission bits, although its
	// capabilities still count only in its own user namespace.
	MapsHostRoot bool `json:"mapsHostRoot,omitempty"`
	// MappedUIDs is how many uids the sandbox's own user namespace maps (the
	// sizes of its uid_map summed); 0 when unknown, and unused in the initial
	// user namespace, which maps them all.
	MappedUIDs int `json:"mappedUIDs,omitempty"`
	// Namespaces says, for every kind but user, whether the sandbox has a new one
	// (owned by its user namespace) or shares the host's. A missing kind is Host.
	Namespaces map[namespace.Kind]namespace.Mode `json:"namespaces"`
	// Bounding, Effective and Permitted are the capability sets of the sandbox's
	// process, held in its user namespace.
	Bounding  caps.Set `json:"bounding"`
	Effective caps.Set `json:"effective"`
	Permitted caps.Set `json:"permitted"`
	// Seccomp is the compiled filter, or nil when unconfined.
	Seccomp *seccomp.Filter `json:"-"`
	// NoNewPrivs is the no_new_privs bit: execve never grants privileges.
	NoNewPrivs bool `json:"noNewPrivs"`
	// Masked are paths hidden from the sandbox (a glob per path element is allowed,
	// as in /sys/devices/system/cpu/cpu*/thermal_throttle).
	Masked []string `json:"masked,omitempty"`
	// ReadOnly are paths remounted read-only.
	ReadOnly []string `json:"readOnly,omitempty"`
	// HostPaths are host directories visible in the sandbox.
	HostPaths []HostPath `json:"hostPaths,omitempty"`
	// Devices are the device cgroup rules in order; nil means no device cgroup.
	Devices []cgroup.DeviceRule `json:"devices,omitempty"`
	// DeviceNodes are the nodes present in the sandbox's /dev; "*" stands for the
	// host's whole /dev.
	DeviceNodes []string `json:"deviceNodes,omitempty"`
	// SELinux is the process label's state.
	SELinux SELinux `json:"selinux"`
	// Landlock are the filesystem rules; empty means no Landlock ruleset.
	Landlock []landlock.Rule `json:"landlock,omitempty"`
	// KernelCode is what the running kernel is known to be built with (see
	// ReadKernelCode); nil means unknown, and a flaw's kernel options are then
	// reported as needed, not guessed.
	KernelCode *KernelCode `json:"kernelCode,omitempty"`
	// Kernel is the kernel release ("6.18.3"); empty means unknown, and every
	// flaw's version range is then assumed to match.
	Kernel string `json:"kernel,omitempty"`
	// KernelDistribution names the distribution that built Kernel (see
	// HostFacts.Distribution); empty for an upstream build or when unknown. A
	// distribution's kernel carries backported fixes, so its version only says
	// "version-dependent", never "outside the affected range".
	KernelDistribution string `json:"kernelDistribution,omitempty"`
	// I386 is the state of the kernel's i386 system call gate (int 0x80) for the
	// sandbox (seccomp.I386Gate); empty means unknown, taken as open. Where it is
	// closed, no i386 call reaches the kernel, filter or not.
	I386 seccomp.I386 `json:"i386,omitempty"`
	// Host are the running kernel's settings that close flaws (sysctls, loaded
	// LSMs); nil means unknown, and nothing is assumed of them.
	Host *HostFacts `json:"host,omitempty"`
}

// i386Closed reports whether the i386 gate is known to be closed.
func (m *Mechanisms) i386Closed() bool { return m.I386 != "" && m.I386.Closed() }

// A HostPath is a host directory visible at Sandbox inside the sandbox.
type HostPath struct {
	Sandbox string `json:"sandbox"`
	Host    string `json:"host"`
}

// SELinux is the SELinux state of the sandbox's process.
type SELinux struct {
	// Enabled is true when SELinux is enforcing on the host.
	Enabled bool `json:"enabled"`
	// Type is the process type: container_t (confined), spc_t or unconfined_t.
	Type string `json:"type,omitempty"`
}

// Confined reports whether the label confines the process: SELinux enforcing and
// a type other than the unconfined ones (spc_t, unconfined_t).
func (s SELinux) Confined() bool {
	return s.Enabled && s.Type != "" && s.Type != "spc_t" && s.Type != "unconfined_t" && s.Type != "kernel_t"
}

// ns returns the mode of kind k (Host when missing).
func (m *Mechanisms) ns(k namespace.Kind) namespace.Mode {
	if k == namespace.User {
		if m.UserNS == namespace.New {
			return namespace.New
		}
		return namespace.Host
	}
	if md, ok := m.Namespaces[k]; ok && md != "" {
		return md
	}
	return namespace.Host
}

// containerKinds are the namespaces Docker and Podman create for a container.
var containerKinds = []namespace.Kind{namespace.Mount, namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.Cgroup}

// defaultNodes are the device nodes of a default container's /dev (moby).
var defaultNodes = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/console", "/dev/ptmx", "/dev/pts/*"}

func newNamespaces() map[namespace.Kind]namespace.Mode {
	m := map[namespace.Kind]namespace.Mode{}
	for _, k := range containerKinds {
		m[k] = namespace.New
	}
	return m
}

// compileDefault compiles Docker's default seccomp profile for the capability set.
func compileDefault(s caps.Set) *seccomp.Filter {
	f, err := seccomp.Compile(seccomp.Default(s.Names()))
	if err != nil {
		// Docker's profile is fixed data; a failure here is a bug of package seccomp.
		panic(fmt.Sprintf("exposure: compiling Docker's default seccomp profile: %v", err))
	}
	return f
}

// RootfulDefault is a container started by root with Docker's defaults: no user
// namespace, new mnt, pid, net, ipc, uts and cgroup namespaces, Docker's 14
// capabilities, Docker's seccomp profile, no_new_privs, Docker's masked and
// read-only paths, moby's device cgroup rules and a minimal /dev.
func RootfulDefault() Mechanisms {
	return Mechanisms{
		Name:        "rootful",
		UserNS:      namespace.Host,
		Namespaces:  newNamespaces(),
		Bounding:    caps.DockerDefault,
		Effective:   caps.DockerDefault,
		Permitted:   caps.DockerDefault,
		Seccomp:     compileDefault(caps.DockerDefault),
		NoNewPrivs:  true,
		Masked:      append([]string(nil), mounts.DefaultMasked...),
		ReadOnly:    append([]string(nil), mounts.DefaultReadOnly...),
		Devices:     cgroup.DefaultDevices(),
		DeviceNodes: append([]string(nil), defaultNodes...),
	}
}

// RootlessDefault is RootfulDefault started by an unprivileged user: a new user
// namespace in which root maps to the caller's uid (1000 here, standing for any
// unprivileged uid) and 65536 IDs in all are mapped, the caller's subordinate
// range from /etc/subuid as rootless Docker and Podman map it through newuidmap. An unprivileged user cannot set up a device cgroup (v1
// cannot be delegated, v2 device control is an eBPF program that needs
// CAP_SYS_ADMIN in the initial namespace), so Devices is nil; device nodes still
// cannot be created in a user namespace.
func RootlessDefault() Mechanisms {
	m := RootfulDefault()
	m.Name = "rootless"
	m.UserNS = namespace.New
	m.RootUID = 1000
	m.MappedUIDs = 65536
	m.Devices = nil
	return m
}

// PrivilegedRootful is `--privileged` started by root: every capability, no
// seccomp filter, no masked or read-only paths, every device allowed and the
// host's /dev, but still new namespaces and no user namespace. no_new_privs stays
// off, as Docker and Podman leave it for privileged containers.
func PrivilegedRootful() Mechanisms {
	full := caps.Full()
	return Mechanisms{
		Name:        "privileged",
		UserNS:      namespace.Host,
		Namespaces:  newNamespaces(),
		Bounding:    full,
		Effective:   full,
		Permitted:   full,
		Devices:     []cgroup.DeviceRule{{Allow: true, Type: "a", Major: cgroup.Wildcard, Minor: cgroup.Wildcard, Access: "rwm"}},
		DeviceNodes: []string{"*"},
	}
}

// PrivilegedRootless is PrivilegedRootful started by an unprivileged user: every
// capability, but in a new user namespace, and no device cgroup (the host's nodes
// are bound in and keep their host permissions).
func PrivilegedRootless() Mechanisms {
	m := PrivilegedRootful()
	m.Name = "privileged-rootless"
	m.UserNS = namespace.New
	m.RootUID = 1000
	m.MappedUIDs = 65536
	m.Devices = nil
	return m
}

// SuperPrivileged is PrivilegedRootful sharing the host's pid, net and ipc
// namespaces, with the host's / mounted at /host (Podman's and Red Hat's
// "super privileged container").
func SuperPrivileged() Mechanisms {
	m := PrivilegedRootful()
	m.Name = "super-privileged"
	for _, k := range []namespace.Kind{namespace.PID, namespace.Net, namespace.IPC} {
		m.Namespaces[k] = namespace.Host
	}
	m.HostPaths = []HostPath{{Sandbox: "/host", Host: "/"}}
	m.SELinux.Type = "spc_t"
	return m
}

// Presets returns the five reference configurations in order: rootful, rootless,
// privileged, privileged-rootless, super-privileged.
func Presets() []Mechanisms {
	return []Mechanisms{RootfulDefault(), RootlessDefault(), PrivilegedRootful(), PrivilegedRootless(), SuperPrivileged()}
}

// Version is a kernel release as numbers: 6.18.3 is {6, 18, 3}.
type Version [3]int

// ParseVersion reads "major.minor[.patch]" followed by anything ("6.1.0-18-amd64").
func ParseVersion(s string) (Version, error) {
	var v Version
	rest := s
	for i := 0; i < 3; i++ {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 {
			if i < 2 {
				return v, fmt.Errorf("kernel version %q: want major.minor[.patch]", s)
			}
			break
		}
		n, err := strconv.Atoi(rest[:j])
		if err != nil {
			return v, fmt.Errorf("kernel version %q: %w", s, err)
		}
		v[i] = n
		rest = rest[j:]
		if i < 2 {
			if !strings.HasPrefix(rest, ".") {
				if i == 0 {
					return v, fmt.Errorf("kernel version %q: want major.minor[.patch]", s)
				}
				break
			}
			rest = rest[1:]
		}
	}
	return v, nil
}

// Less reports whether v comes before w.
func (v Version) Less(w Version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// String formats v as major.minor.patch.
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// Affected reports whether kernel k is in r. Bad versions in r count as absent.
func (r VersionRange) Affected(k Version) bool {
	if r.Introduced != "" {
		if in, err := ParseVersion(r.Introduced); err == nil && k.Less(in) {
			return false
		}
	}
	for i, s := range r.Fixed {
		fx, err := ParseVersion(s)
		if err != nil {
			continue
		}
		if i == 0 && !k.Less(fx) {
			return false
		}
		if i > 0 && fx[0] == k[0] && fx[1] == k[1] && !k.Less(fx) {
			return false
		}
	}
	return true
}
