package inspect

import (
	"encoding/json"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// The kinds of isolation that Classify tells apart, and the names of the presets of
// package sandbox that build the first four.
const (
	// KindRootful is a sandbox started by root without a user namespace of an
	// unprivileged user: root inside is root outside, held in by namespaces,
	// capabilities, seccomp and masks.
	KindRootful = "rootful"
	// KindRootless is a sandbox whose root is an unprivileged user outside, in a
	// new user namespace.
	KindRootless = "rootless"
	// KindPrivileged is a sandbox held in by namespaces only: all capabilities, no
	// seccomp filter, no masked or read-only path of /proc and /sys.
	KindPrivileged = "privileged"
	// KindSuperPrivileged is a sandbox with a new mount namespace but the host's
	// pid, net and ipc namespaces, usually with the host's / at /host.
	KindSuperPrivileged = "super-privileged"
	// KindHost is a process that is not isolated: it shares every namespace with
	// the host (or with its reference process).
	KindHost = "host"
)

// NSState says how a process's namespace of one kind relates to the reference.
type NSState string

// The namespace states.
const (
	// NSNew is a namespace of the process's own: not the reference process's, or,
	// without a reference, not the kernel's initial namespace.
	NSNew NSState = "new"
	// NSShared is the reference process's namespace, or the kernel's initial one.
	NSShared NSState = "shared"
	// NSUnknown is a namespace that could not be read or judged.
	NSUnknown NSState = "unknown"
)

// A Report describes what a live process is isolated by, as plain data that marshals
// to JSON. Process, ProcessAgainst and Self fill it from /proc; Classify derives Kind,
// Rootless and Reasons from the other fields, so a Report built by hand (or from a
// Spec) is classified the same way.
type Report struct {
	// PID is the process, as the reader's /proc numbers it.
	PID int `json:"pid"`
	// Reference says what the namespaces were compared with: "pid N", or "the
	// kernel's initial namespaces" when no other process could be read.
	Reference string `json:"reference"`
	// RefPID is the reference process, 0 when there is none.
	RefPID int `json:"refPid,omitempty"`

	// Kind is what the isolation amounts to: KindRootful, KindRootless,
	// KindPrivileged, KindSuperPrivileged or KindHost.
	Kind string `json:"kind"`
	// Rootless reports that root inside is an unprivileged user outside: a new user
	// namespace whose maps do not reach host uid 0. A privileged or super-privileged
	// sandbox may be rootless too.
	Rootless bool `json:"rootless"`
	// Reasons explain in plain words how Kind was decided.
	Reasons []string `json:"reasons"`

	// Namespaces holds one entry per kind, in the order of namespace.Kinds.
	Namespaces []NamespaceReport `json:"namespaces"`
	// UIDMap and GIDMap are the maps of the process's user namespace, seen from the
	// reader's; Setgroups is "allow" or "deny".
	UIDMap    []namespace.IDMap `json:"uidMap"`
	GIDMap    []namespace.IDMap `json:"gidMap"`
	Setgroups string            `json:"setgroups,omitempty"`
	// UID and GID are the process's effective IDs, seen from the reader's user
	// namespace.
	UID int `json:"uid"`
	GID int `json:"gid"`

	Capabilities CapabilityReport `json:"capabilities"`
	Seccomp      SeccompReport    `json:"seccomp"`
	// NoNewPrivs is the no_new_privs flag (NoNewPrivs: in /proc/PID/status): execve
	// cannot grant privileges (setuid bits, file capabilities).
	NoNewPrivs bool           `json:"noNewPrivs"`
	Mounts     MountReport    `json:"mounts"`
	SELinux    SELinuxReport  `json:"selinux"`
	Landlock   LandlockReport `json:"landlock"`
	Cgroup     CgroupReport   `json:"cgroup"`
	// Rlimits are the resource limits that bound the processes, memory and CPU
	// time of each process where no cgroup does.
	Rlimits RlimitReport `json:"rlimits"`
}

// A NamespaceReport is a process's namespace of one kind.
type NamespaceReport struct {
	Kind  namespace.Kind `json:"kind"`
	State NSState        `json:"state"`
	// Inode identifies the namespace; RefInode is the reference process's namespace
	// of the same kind (0 without a reference).
	Inode    uint64 `json:"inode,omitempty"`
	RefInode uint64 `json:"refInode,omitempty"`
	// ForChildren is the pid or time namespace the process's future children get,
	// when it differs from Inode.
	ForChildren uint64 `json:"forChildren,omitempty"`
	// Initial reports the kernel's initial namespace of this kind, recognised by the
	// fixed inode number the kernel gives it.
	Initial bool   `json:"initial,omitempty"`
	Err     string `json:"error,omitempty"`
}

// CapabilityReport lists the five capability sets by name ("CAP_CHOWN", ...).
type CapabilityReport struct {
	Bounding    []string `json:"bounding"`
	Effective   []string `json:"effective"`
	Permitted   []string `json:"permitted"`
	Inheritable []string `json:"inheritable"`
	Ambient     []string `json:"ambient"`
	// Dropped lists the capabilities of Baseline missing from the bounding set.
	Dropped []string `json:"dropped"`
	// Baseline says what the bounding set was compared with: the reference
	// process's bounding set, PID 1's, or every capability the kernel knows.
	Baseline string `json:"baseline"`
	Err      string `json:"error,omitempty"`
}

// SeccompReport is the process's seccomp state.
type SeccompReport struct {
	// Mode is "disabled", "strict" or "filter" ("unknown" when unreadable).
	Mode string `json:"mode"`
	// Filters is the number of attached filters, -1 when the kernel does not say.
	Filters int    `json:"filters"`
	Err     string `json:"error,omitempty"`
	// I386 is the i386 system call gate (int 0x80) as the inspecting process
	// finds it (seccomp.I386Gate). For the inspecting process itself that
	// includes its own filter; for another process it is the kernel's answer
	// ("open": the process's filter decides), or empty when the inspecting
	// process's own filter hides it.
	I386 seccomp.I386 `json:"i386,omitempty"`
}

// MountReport is what the process sees of the kernel filesystems and the host's.
type MountReport struct {
	// Masked and ReadOnly are the paths of mounts.DefaultMasked and
	// mounts.DefaultReadOnly that are in force; Unmasked and Writable those that
	// exist without it. Paths missing from the kernel are in neither.
	Masked   []string `json:"masked"`
	Unmasked []string `json:"unmasked,omitempty"`
	ReadOnly []string `json:"readOnly"`
	Writable []string `json:"writable,omitempty"`
	// HostRoot lists where the process sees the whole host root filesystem ("/" when
	// it has no root of its own, "/host" for a super-privileged container).
	HostRoot []string `json:"hostRoot,omitempty"`
	// HostVisible counts the process's mounts that show part of a host filesystem;
	// -1 when the host's mount table cannot be seen (from inside a sandbox whose
	// /proc is its own, PID 1 is the sandbox's).
	HostVisible int    `json:"hostVisible"`
	Err         string `json:"error,omitempty"`
}

// SELinuxReport is the process's SELinux state.
type SELinuxReport struct {
	Enabled bool   `json:"enabled"`
	Label   string `json:"label,omitempty"`
	Err     string `json:"error,omitempty"`
}

// LandlockReport says what is known of Landlock. The kernel offers no way to read a
// process's Landlock domain, from outside or from inside, so whether a ruleset is
// enforced is always unknown; only the kernel's support is reported.
type LandlockReport struct {
	// ABI is the kernel's Landlock ABI version, 0 without Landlock.
	ABI int `json:"abi"`
	// Enforced is always "unknown".
	Enforced string `json:"enforced"`
	Note     string `json:"note"`
}

// CgroupReport is the process's cgroups and the limits they impose.
type CgroupReport struct {
	// Paths maps each v1 controller, and "unified" for cgroup v2, to the process's
	// cgroup, relative to the reader's cgroup namespace.
	Paths map[string]string `json:"paths,omitempty"`
	// Memory is the memory limit in bytes, Pids the process limit; -1 is unlimited,
	// 0 unknown.
	Memory int64 `json:"memory"`
	Pids   int64 `json:"pids"`
	// CPUQuota and CPUPeriod are the CFS bandwidth limit in microseconds; a quota of
	// -1 is unlimited, 0 unknown.
	CPUQuota  int64  `json:"cpuQuota"`
	CPUPeriod uint64 `json:"cpuPeriod"`
	Err       string `json:"error,omitempty"`
}

// Get returns the entry of namespace kind k (State NSUnknown when absent).
func (r *Report) Get(k namespace.Kind) NamespaceReport {
	for _, n := range r.Namespaces {
		if n.Kind == k {
			return n
		}
	}
	return NamespaceReport{Kind: k, State: NSUnknown}
}

// JSON returns r as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
