// Package plan holds the Plan: what a sandbox Spec resolves to on this host, for
// one caller, before anything starts.
//
// A Plan is plain data that marshals to JSON. Package sandbox makes it (Spec.Plan)
// and builds the child's steps from it; Spec.Describe, package exposure, the
// examples' --dry-run and the OCI runtime read it. Nothing else works the sandbox
// out from a Spec again, so what is printed is what runs.
//
// Each part carries the reason for the choice made where the Spec left one open
// (the spawn mode, the ID maps, "ALL" capabilities cut to the caller's bounding
// set, a limit that fell back to an rlimit), and the caller's own state that the
// sandbox inherits (a seccomp filter, no_new_privs, resource limits, namespaces
// it shares).
package plan

import (
	"encoding/json"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
)

// A Plan is what a Spec resolves to on this host for the caller that made it.
type Plan struct {
	// Kind is the preset the Spec started from ("rootful", "rootless",
	// "privileged", "super-privileged"), empty for a Spec of its own.
	Kind string `json:"kind,omitempty"`
	// Caller is the process the Plan was made for.
	Caller Caller `json:"caller"`
	// Spawn is how each start creates the child.
	Spawn Spawn `json:"spawn"`
	// Namespaces holds one entry per kind, in the order of namespace.Kinds.
	Namespaces []Namespace `json:"namespaces"`
	// IDs are the ID maps of a new user namespace and the target's user.
	IDs IDs `json:"ids"`
	// Hostname and Domainname are set in the sandbox; OwnHostname says that each
	// start of a new UTS namespace without a Hostname gets a name of its own.
	Hostname    string `json:"hostname,omitempty"`
	Domainname  string `json:"domainname,omitempty"`
	OwnHostname bool   `json:"ownHostname,omitempty"`
	// Process holds the sysctls, umask, OOM score adjustment and personality
	// that the child sets.
	Process Process `json:"process,omitzero"`
	// Capabilities are the sets the child gives the target and what it holds
	// after execve.
	Capabilities Capabilities `json:"capabilities"`
	// NoNewPrivs is no_new_privs as the target has it: set by the Spec or
	// inherited from the caller.
	NoNewPrivs NoNewPrivs `json:"noNewPrivs"`
	// Seccomp is the system call filter the child loads, and those the caller
	// already has, which the sandbox inherits.
	Seccomp Seccomp `json:"seccomp"`
	// Filesystem is the root, the mounts in the order the child makes them, and
	// what shows of the host.
	Filesystem Filesystem `json:"filesystem"`
	// Cgroup is the cgroup each start gets and its limits, or the caller's.
	Cgroup Cgroup `json:"cgroup"`
	// Rlimits are the resource limits the target runs under: the caller's, which
	// the child inherits, with those the child sets in their place.
	Rlimits []Rlimit `json:"rlimits"`
	// SELinux is the label of the process and its files.
	SELinux SELinux `json:"selinux"`
	// Landlock is the filesystem ruleset the child enforces, if any.
	Landlock Landlock `json:"landlock"`
	// Kernel is the running kernel's release.
	Kernel string `json:"kernel,omitempty"`
	// I386 is the state of the kernel's i386 system call gate for the sandbox
	// (seccomp.I386Gate), empty when unknown.
	I386 seccomp.I386 `json:"i386,omitempty"`
}

// How a namespace is had (Namespace.By).
const (
	// ByClone is a namespace that clone3 creates with the child.
	ByClone = "clone3"
	// ByUnshare is a namespace the child creates: one a joined user namespace
	// owns, or a cgroup or time namespace, made after the ID maps.
	ByUnshare = "unshare"
	// BySetns is a joined namespace.
	BySetns = "setns"
	// ByShared is the network namespace that every start of a Template shares.
	ByShared = "setns (the Template's shared one)"
)

// Who writes the ID maps of a new user namespace (IDs.Writer).
const (
	// MapsByChild is the child itself, in vfork mode: the caller's own IDs.
	MapsByChild = "child"
	// MapsOwnIDs is the parent, for a map of the caller's own IDs alone.
	MapsOwnIDs = "parent, own IDs"
	// MapsByParent is a root parent, for any map.
	MapsByParent = "parent"
	// MapsByHelpers are the setuid newuidmap and newgidmap, for a subordinate
	// range of an unprivileged caller.
	MapsByHelpers = "newuidmap"
)

// The spawn modes (Spawn.Mode).
const (
	// Vfork shares the caller's memory with the child until it execs.
	Vfork = "vfork"
	// Fork has the parent work between the clone and the child's release.
	Fork = "fork"
)

// Caller is the process a Plan was made for: its effective IDs and pid.
type Caller struct {
	UID int `json:"uid"`
	GID int `json:"gid"`
	PID int `json:"pid"`
}

// Spawn says how each start creates the child.
type Spawn struct {
	// Mode is Vfork or Fork.
	Mode string `json:"mode"`
	// Init says that PID 1 of the new pid namespace is Paddock's own init.
	Init bool `json:"init,omitempty"`
	// Handover says that the target is cloned into a joined pid namespace by
	// the child that joined it, and becomes the start's process: the child
	// exits (see sandbox.WithNamespace).
	Handover bool `json:"handover,omitempty"`
	// ParentDeathSignal is the signal the sandbox gets when the thread that
	// started it dies; 0 for a detached sandbox, which outlives it.
	ParentDeathSignal int `json:"parentDeathSignal"`
	// Hold says where each start is held until it is released (create, then
	// start): HoldBeforeExec, or "" for a start that runs the target at once.
	Hold string `json:"hold,omitempty"`
	// Detached says that the sandbox may outlive the process that started it:
	// no parent-death signal, and the Process can be given up (Detach).
	Detached bool   `json:"detached,omitempty"`
	Reason   string `json:"reason"`
}

// HoldBeforeExec is the hold of a held start (Spawn.Hold): after every other
// step of the child, the seccomp filter included, just before execve, the child
// waits until a reader opens the FIFO that its Command names.
const HoldBeforeExec = "before execve, after every other step, until a reader opens the start's FIFO"

// A Namespace is the sandbox's namespace of one kind.
type Namespace struct {
	Kind namespace.Kind `json:"kind"`
	// Mode is namespace.New, namespace.Host (the caller's own) or namespace.Join.
	Mode namespace.Mode `json:"mode"`
	// Path is the joined namespace's file.
	Path string `json:"path,omitempty"`
	// Inode is the namespace's inode for a shared or joined one; CallerInode the
	// caller's namespace of the same kind (0 where unreadable).
	Inode       uint64 `json:"inode,omitempty"`
	CallerInode uint64 `json:"callerInode,omitempty"`
	// Callers reports that a joined namespace is the caller's own.
	Callers bool `json:"callers,omitempty"`
	// By is how the child gets it: ByClone, ByUnshare, BySetns, ByShared, or ""
	// for the caller's own.
	By  string `json:"by,omitempty"`
	Err string `json:"error,omitempty"`
}

// IDs are the ID maps of the sandbox's user namespace and the target's user.
type IDs struct {
	// UIDMap and GIDMap are the maps of a new user namespace, or the caller's
	// own (or the joined namespace's, where they can be read) otherwise; under an
	// automatic range, the first block of the range stands for the block that
	// each start allocates.
	UIDMap []namespace.IDMap `json:"uidMap"`
	GIDMap []namespace.IDMap `json:"gidMap"`
	// Setgroups is "allow" or "deny" in the new user namespace.
	Setgroups string `json:"setgroups,omitempty"`
	// Writer says who writes the maps of a new user namespace: MapsByChild,
	// MapsOwnIDs, MapsByParent or MapsByHelpers.
	Writer string `json:"writer,omitempty"`
	// Auto is the automatic range each start allocates its block from.
	Auto *namespace.AutoRange `json:"auto,omitempty"`
	// User, Group and Groups are the target's IDs inside; UID and GID the same
	// seen from the caller (65534 for an ID the map leaves out).
	User   uint32   `json:"user"`
	Group  uint32   `json:"group"`
	Groups []uint32 `json:"groups,omitempty"`
	UID    int      `json:"uid"`
	GID    int      `json:"gid"`
	Reason string   `json:"reason,omitempty"`
}

// Process is what the child sets of the target's process beside its IDs and
// privileges; a nil or empty field keeps the caller's.
type Process struct {
	// Sysctl are written, in this order, to the sandbox's /proc/sys after the
	// pivot into its root, before the read-only paths.
	Sysctl []Sysctl `json:"sysctl,omitempty"`
	// Umask is set just before the privileges are dropped.
	Umask *uint32 `json:"umask,omitempty"`
	// OOMScoreAdj is written to /proc/self/oom_score_adj by the child's first
	// step, while it has the caller's credentials.
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
	// Personality is the execution domain set with personality(2).
	Personality string `json:"personality,omitempty"`
	// Scheduler, IOPriority and the final CPU affinity are set with the umask;
	// the initial CPU affinity with the OOM score adjustment.
	Scheduler   *Scheduler   `json:"scheduler,omitempty"`
	IOPriority  *IOPriority  `json:"ioPriority,omitempty"`
	CPUAffinity *CPUAffinity `json:"cpuAffinity,omitempty"`
}

// Scheduler is a scheduling policy and its parameters, as sched_setattr(2)
// takes them and the OCI runtime spec names them: Policy "SCHED_OTHER",
// "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE" or "SCHED_DEADLINE";
// Priority for FIFO and RR (1..99); Runtime, Deadline and Period in
// nanoseconds for DEADLINE; Flags "SCHED_FLAG_RESET_ON_FORK" and the like.
type Scheduler struct {
	Policy   string   `json:"policy"`
	Nice     int32    `json:"nice,omitempty"`
	Priority int32    `json:"priority,omitempty"`
	Flags    []string `json:"flags,omitempty"`
	Runtime  uint64   `json:"runtime,omitempty"`
	Deadline uint64   `json:"deadline,omitempty"`
	Period   uint64   `json:"period,omitempty"`
}

// IOPriority is an I/O scheduling class ("IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
// "IOPRIO_CLASS_IDLE") and the priority within it (0..7).
type IOPriority struct {
	Class    string `json:"class"`
	Priority int    `json:"priority"`
}

// CPUAffinity are CPU lists ("0-3,6"): Initial from the child's first step,
// Final from just before the target runs; "" leaves the affinity as it is.
type CPUAffinity struct {
	Initial string `json:"initial,omitempty"`
	Final   string `json:"final,omitempty"`
}

// A Sysctl is a kernel parameter of the sandbox's own namespaces: its dotted
// Name, the File the child writes Value to, inside the sandbox's root.
type Sysctl struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Value string `json:"value"`
}

// Capabilities are the capability sets of the target.
type Capabilities struct {
	// Sets are the sets the child sets before execve: the Spec's, with "ALL"
	// (or a privileged Spec's all) cut to the caller's bounding set.
	Sets caps.Sets `json:"sets"`
	// Exec are the sets the target holds after execve, by capabilities(7) for a
	// program without file capabilities: root gets its bounding and inheritable
	// sets (within its permitted set under no_new_privs), anyone else only its
	// ambient set.
	Exec caps.Sets `json:"exec"`
	// CallerBounding is the caller's own bounding set, which bounds them all.
	CallerBounding caps.Set `json:"callerBounding"`
	Reason         string   `json:"reason,omitempty"`
}

// NoNewPrivs is no_new_privs as the target has it.
type NoNewPrivs struct {
	// Set is the Spec's; Inherited the caller's own, which the sandbox keeps.
	Set       bool `json:"set"`
	Inherited bool `json:"inherited,omitempty"`
}

// On reports whether the target runs with no_new_privs.
func (n NoNewPrivs) On() bool { return n.Set || n.Inherited }

// Seccomp is the system call filter of the sandbox.
type Seccomp struct {
	// Mode is the Spec's mode ("default", "podman", "custom", "unconfined"), and
	// Loaded whether the child loads a filter.
	Mode   string `json:"mode"`
	Loaded bool   `json:"loaded"`
	// Profile is the filter's profile, resolved against the bounding set as
	// Build compiles it; nil when the child loads none.
	Profile *seccomp.Profile `json:"profile,omitempty"`
	// DefaultAction, Rules and Arches summarise the profile.
	DefaultAction seccomp.Action `json:"defaultAction,omitempty"`
	Rules         int            `json:"rules,omitempty"`
	Arches        []string       `json:"arches,omitempty"`
	// CallerMode is the caller's own seccomp mode ("disabled", "strict",
	// "filter"), and CallerFilters the filters it has, which the sandbox inherits.
	CallerMode    string `json:"callerMode,omitempty"`
	CallerFilters int    `json:"callerFilters,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// Filesystem is the sandbox's view of files.
type Filesystem struct {
	// Root says what the root is: "overlay", "fuse-overlayfs", "split overlay"
	// (one overlay per top-level directory of the host's "/"), "directory" (a
	// directory of the host itself, Dir, as runc's root), "host" (the caller's own
	// root, NoRootfs or no new mount namespace).
	Root string `json:"root"`
	// Dir is the host directory that a "directory" root is.
	Dir string `json:"dir,omitempty"`
	// Lower are the root's read-only layers, Upper its writable one ("" for a
	// fresh one per start).
	Lower []string `json:"lower,omitempty"`
	Upper string   `json:"upper,omitempty"`
	// ReadonlyRoot says that the root is mounted read-only.
	ReadonlyRoot bool `json:"readonlyRoot,omitempty"`
	// Propagation is the propagation of "/" in the new mount namespace.
	Propagation string `json:"propagation,omitempty"`
	// Steps are the mount steps of a new mount namespace in the order the child
	// runs them: the propagation of "/", the root assembled in a staging
	// directory (each Template makes its own; Staging names the one these steps
	// were resolved with), the kernel filesystems, binds, tmpfs, pivot_root,
	// masks and read-only paths.
	Steps   []mounts.Step `json:"steps,omitempty"`
	Staging string        `json:"staging,omitempty"`
	// Masked and ReadOnly are the paths the child masks and makes read-only, as
	// the Spec lists them (a pattern per path element allowed); the child skips
	// those this host lacks. OnHost says which of them are in force here.
	Masked   []string `json:"masked"`
	ReadOnly []string `json:"readOnly"`
	OnHost   OnHost   `json:"onHost"`
	// Hidden are the host paths hidden from a sandbox on the host's "/".
	Hidden []mounts.HiddenPath `json:"hidden,omitempty"`
	// HostPaths are the host paths visible in the sandbox: binds, and the host's
	// "/" where the sandbox keeps it.
	HostPaths []HostPath `json:"hostPaths,omitempty"`
	// HostVisible counts the host mounts that the binds (or a kept host root)
	// bring in.
	HostVisible int `json:"hostVisible"`
	// DeviceNodes are the nodes of the sandbox's /dev; "*" stands for the
	// host's whole /dev.
	DeviceNodes []string `json:"deviceNodes,omitempty"`
	Err         string   `json:"error,omitempty"`
}

// OnHost are the masked and read-only paths as they are on this host.
type OnHost struct {
	// Masked and ReadOnly are the Filesystem's lists, patterns expanded, as far
	// as they exist here; Unmasked and Writable the paths of
	// mounts.DefaultMasked and mounts.DefaultReadOnly that exist and stay open.
	Masked   []string `json:"masked"`
	ReadOnly []string `json:"readOnly"`
	Unmasked []string `json:"unmasked,omitempty"`
	Writable []string `json:"writable,omitempty"`
}

// A HostPath is a host path visible at Sandbox in the sandbox.
type HostPath struct {
	Sandbox  string `json:"sandbox"`
	Host     string `json:"host"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// Cgroup is the cgroup a start gets.
type Cgroup struct {
	// Version is 1 or 2 for a cgroup of the sandbox's own (Controllers are the v1
	// hierarchies it is made in, Unified says a v2 one too), 0 when the sandbox
	// stays in the caller's.
	Version     int      `json:"version"`
	Controllers []string `json:"controllers,omitempty"`
	Unified     bool     `json:"unified,omitempty"`
	// Paths maps each v1 controller, and "unified", to the sandbox's cgroup,
	// ending in "<start>" for each start's own, or to the caller's.
	Paths map[string]string `json:"paths,omitempty"`
	// Memory and Pids are the limits (-1 for none), CPUQuota and CPUPeriod the
	// CFS bandwidth in microseconds (a quota of -1 for none); for a sandbox in
	// the caller's cgroup, the caller's.
	Memory    int64  `json:"memory"`
	Pids      int64  `json:"pids"`
	CPUQuota  int64  `json:"cpuQuota"`
	CPUPeriod uint64 `json:"cpuPeriod"`
	// Resources are all the limits written to the sandbox's cgroup (the finer
	// ones too: reservations, swappiness, realtime bandwidth, huge pages,
	// network classes, per-device I/O, unified files); nil for none.
	Resources *cgroup.Resources `json:"resources,omitempty"`
	// Devices are the device rules the cgroup enforces, in order; nil for none.
	Devices []cgroup.DeviceRule `json:"devices,omitempty"`
	// FellBack are the cgroup limits that no cgroup can enforce here and that
	// became rlimits.
	FellBack []string `json:"fellBack,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Err      string   `json:"error,omitempty"`
}

// An Rlimit is a resource limit of the target.
type Rlimit struct {
	// Type is the resource's name ("RLIMIT_NOFILE").
	Type string `json:"type"`
	// Soft and Hard are the limits; ^uint64(0) is unlimited.
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
	// Set says that the child sets it; otherwise the sandbox inherits the
	// caller's.
	Set bool `json:"set,omitempty"`
}

// SELinux is the SELinux state of the sandbox.
type SELinux struct {
	// Enabled says SELinux is enforcing on this host.
	Enabled bool `json:"enabled"`
	// Labels are the process and file labels; their categories stand for those
	// each Template allocates.
	Labels selinux.Labels `json:"labels"`
}

// Landlock is the Landlock ruleset of the sandbox.
type Landlock struct {
	// ABI is the kernel's Landlock ABI, 0 without Landlock.
	ABI int `json:"abi"`
	// Rules are the Spec's rules; Enforced says the child enforces them (the
	// Spec has rules and the kernel has Landlock).
	Rules    []landlock.Rule `json:"rules,omitempty"`
	Enforced bool            `json:"enforced"`
	Reason   string          `json:"reason,omitempty"`
}

// Get returns the entry of namespace kind k (a zero Namespace of kind k when
// absent).
func (p *Plan) Get(k namespace.Kind) Namespace {
	for _, n := range p.Namespaces {
		if n.Kind == k {
			return n
		}
	}
	return Namespace{Kind: k}
}

// New reports whether the sandbox has a namespace of kind k of its own: a new
// one, or a joined one that is not the caller's.
func (p *Plan) New(k namespace.Kind) bool {
	n := p.Get(k)
	return n.Mode == namespace.New || n.Mode == namespace.Join && !n.Callers
}

// JSON returns p as indented JSON.
func (p *Plan) JSON() ([]byte, error) { return json.MarshalIndent(p, "", "  ") }
