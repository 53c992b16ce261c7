package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/network"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// Spec describes a sandbox as plain data: it can be printed, stored as JSON, diffed
// and validated. Options and presets only edit a Spec; Build turns it into a Template.
type Spec struct {
	// Kind names the preset the Spec started from, for reports: inspect.KindRootful,
	// KindRootless, KindPrivileged or KindSuperPrivileged. It changes nothing by
	// itself.
	Kind string `json:"kind,omitempty"`

	Namespaces namespace.Spec `json:"namespaces"`

	// Hostname and Domainname are set in the sandbox's UTS namespace, new or
	// joined (the names of a joined one change for all that share it, as an OCI
	// runtime sets them in a pod's).
	Hostname   string `json:"hostname,omitempty"`
	Domainname string `json:"domainname,omitempty"`
	// Env is the target's environment unless a Command brings its own.
	Env []string `json:"env,omitempty"`
	// Workdir is the target's working directory inside the sandbox.
	Workdir string `json:"workdir,omitempty"`
	// User is who the target runs as inside the sandbox; nil means root (ID 0).
	User *User `json:"user,omitempty"`
	// Sysctl are kernel parameters (sysctl(8) names, "net.ipv4.ping_group_range"
	// or "net/ipv4/ping_group_range") set in the sandbox before the target runs:
	// only those of a namespace the sandbox has of its own (see CheckSysctl),
	// written by the child to the /proc/sys of its /proc, which the Spec must
	// mount, before that is made read-only.
	Sysctl map[string]string `json:"sysctl,omitempty"`
	// Umask is the target's file mode creation mask; nil keeps the caller's.
	Umask *uint32 `json:"umask,omitempty"`
	// OOMScoreAdj is the target's OOM score adjustment (-1000..1000), set by the
	// child before anything else; nil keeps the caller's. A value below the
	// caller's needs CAP_SYS_RESOURCE.
	OOMScoreAdj *int `json:"oomScoreAdj,omitempty"`
	// Personality is the target's execution domain: "" keeps the caller's,
	// PersonalityLinux or PersonalityLinux32 (uname -m then reads i686 on
	// x86-64).
	Personality string `json:"personality,omitempty"`
	// Scheduler is the target's scheduling policy; nil keeps the caller's. A
	// realtime or deadline policy, or a nice value below the caller's, needs
	// CAP_SYS_NICE over the host.
	Scheduler *Scheduler `json:"scheduler,omitempty"`
	// IOPriority is the target's I/O class and priority; nil keeps the
	// caller's. The realtime class needs CAP_SYS_ADMIN or CAP_SYS_NICE over the
	// host.
	IOPriority *IOPriority `json:"ioPriority,omitempty"`
	// CPUAffinity restricts the CPUs of the child's setup (Initial) and of the
	// target (Final); nil keeps the caller's.
	CPUAffinity *CPUAffinity `json:"cpuAffinity,omitempty"`
	// Rlimits are set in the child. RLIMIT_NOFILE is always set: to the value given
	// here, or to a soft limit of 1024 (Go raises the soft limit of its own process).
	Rlimits []Rlimit `json:"rlimits,omitempty"`
	// Init runs a minimal init as PID 1 of a new pid namespace: Paddock's own,
	// executed from a sealed memfd with an empty environment, holding nothing of the
	// caller; it reaps zombies, forwards signals and exits with the target's status.
	// Build refuses it where it cannot run (not amd64, vm.memfd_noexec = 2, a seccomp
	// filter that refuses one of its system calls). See WithInit.
	Init bool `json:"init,omitempty"`
	// Spawn chooses how the child is created: "" or "auto", "fork" or "vfork".
	Spawn SpawnMode `json:"spawn,omitempty"`
	// ParentDeathSignal is sent to the sandbox when the thread that started it dies;
	// 0 means SIGKILL.
	ParentDeathSignal int `json:"parentDeathSignal,omitempty"`
	// Hold holds each start just before execve, after every other step, until
	// another process (or Process.Release) opens the FIFO that the Command names
	// (Command.HoldFIFO) for reading: create, then start, as an OCI runtime's
	// create and start. It needs fork mode: a vfork child would keep the calling
	// thread until it executes.
	Hold bool `json:"hold,omitempty"`
	// HoldBeforePivot has each held start (Hold) also stop once its mounts are
	// made, before pivot_root, for the Command's BeforePivot (an OCI runtime's
	// prestart, createRuntime and createContainer hooks). It costs each start a
	// round trip to the parent, so only a Spec that asks for it pays it. It needs
	// Hold, a new mount namespace and a root filesystem.
	HoldBeforePivot bool `json:"holdBeforePivot,omitempty"`
	// Detached lets the sandbox outlive the process that started it: no
	// parent-death signal, and the Process can be given up (Process.Detach),
	// leaving the sandbox's cgroup to be removed later (Remove). Build refuses
	// what the parent would have to keep doing: run-time limits, an automatic ID
	// range (its block's lock dies with the parent), a fuse-overlayfs root.
	Detached bool `json:"detached,omitempty"`

	// SharedNetNS gives every start of the Template one network namespace, created
	// empty (loopback only) in Build, instead of a new one each: a new network
	// namespace is the dearest to create and destroy. The sandboxes of a Template
	// then share it: they can reach each other's sockets on 127.0.0.1 and abstract
	// unix sockets, and bind the same ports in turn; they still see nothing of the
	// host's network. Root only: the namespace must be owned by a user namespace
	// that the starts share, and each rootless start has its own.
	SharedNetNS bool `json:"sharedNetNS,omitempty"`
	// Network gives the sandbox's new network namespace a way out: a
	// user-mode network (slirp4netns, or pasta for a caller other than
	// root) or, for root, a bridge, that the parent sets up for each start
	// while the child waits, with published ports, and a resolv.conf bound
	// on /etc/resolv.conf that the sandbox can use (see package network). It needs a new network namespace and fork mode, and a
	// Template with it cannot be pooled.
	Network network.Spec `json:"network,omitzero"`

	// Rootfs is the sandbox's root filesystem, an overlay of read-only layers with
	// a writable layer on top. No layer means the embedded default: the host's own
	// "/" as the only, read-only lower layer. Used only with a new mount namespace.
	Rootfs overlay.Spec `json:"rootfs"`
	// NoRootfs keeps the host's root (in the sandbox's own mount namespace) instead
	// of pivoting into an overlay: nothing of the filesystem is isolated.
	NoRootfs bool `json:"noRootfs,omitempty"`
	// RootDir makes a directory of the host the sandbox's root itself, as runc
	// makes an OCI bundle's root.path: bound recursively in the sandbox's mount
	// namespace and pivoted into, writable unless Mounts.ReadonlyRoot, so that what
	// the sandbox writes (the mount points its setup creates included) lands in the
	// directory. It replaces the overlay, so Rootfs stays empty. Its content is as
	// hostile as any image's: every path the setup touches inside it is resolved
	// inside it, by descriptor.
	RootDir string `json:"rootDir,omitempty"`
	// HostRoot says what a sandbox on the embedded default root (the host's "/",
	// used when Rootfs has no layer) does not see of the host: nil means
	// mounts.DefaultHostRoot() (the host's secrets hidden, /tmp, /var/tmp and /run
	// empty); an empty HostRoot hides nothing. Unused with layers of its own.
	HostRoot *mounts.HostRoot `json:"hostRoot,omitempty"`
	// UnmappedLayers keeps the root filesystem's layers as they are under an
	// automatic ID range (WithAutoUserNS, a root caller's Rootless), where they are otherwise idmapped
	// (overlay.Spec.IDMap): files owned by host IDs outside the range then appear
	// as owned by 65534 and grant the sandbox's root only what they grant others.
	UnmappedLayers bool `json:"unmappedLayers,omitempty"`
	// Mounts are the kernel filesystems, binds, tmpfs, masked and read-only paths.
	Mounts mounts.Spec `json:"mounts"`
	// RootInPlace sets up the root directory (RootDir) and the mounts in a mount
	// namespace that is not the sandbox's own, as runc does where an OCI
	// configuration joins a mount namespace or lists none (see
	// WithRootInJoinedMountNS and WithRootInCallerMountNS):
	//   - with a joined mount namespace, the child enters it and runs the same
	//     steps as in a new one: it makes every mount of that namespace private
	//     (or slave, as RootPropagation says), mounts the root there and
	//     pivot_roots into it, which changes the root of every process of the
	//     namespace and detaches the old root from it;
	//   - with the caller's mount namespace (no mount namespace of the sandbox's
	//     own), the child mounts in it below the staging directory, made a
	//     private mount of its own first so that nothing propagates, and enters
	//     the root with chroot; once its mounts are made, it enters a copy of
	//     them that belongs to no namespace, and each start detaches the whole
	//     staging tree from the caller's namespace before Start returns (its
	//     /proc/self/mountinfo is then empty: its root lies in no namespace's
	//     tree). This is weaker isolation: the sandbox is in the caller's mount
	//     namespace, so a process of it with CAP_SYS_ADMIN that reaches a path
	//     of the caller's (the /proc/PID/root of a process outside, where the pid
	//     namespace is shared) can mount there, and a process that can escape a
	//     chroot (CAP_SYS_CHROOT) reaches the top of the copy, its own root, if
	//     nothing else. It needs CAP_SYS_ADMIN over the caller's mount namespace,
	//     so no new user namespace, and its starts take turns.
	RootInPlace bool `json:"rootInPlace,omitempty"`

	// Caps are the capability sets of the target.
	Caps caps.Spec `json:"capabilities"`
	// Seccomp is the system call filter.
	Seccomp Seccomp `json:"seccomp"`
	// NoNewPrivileges sets PR_SET_NO_NEW_PRIVS: execve can never grant privileges
	// (setuid bits and file capabilities are ignored).
	NoNewPrivileges bool `json:"noNewPrivileges,omitempty"`
	// Landlock confines the target's filesystem access to its rules.
	Landlock landlock.Spec `json:"landlock"`
	// Privileged turns the hardening off: all capabilities, no seccomp, no masked or
	// read-only kernel filesystems, /sys writable, all devices, no no_new_privs,
	// an unconfined label. The namespaces stay.
	Privileged bool `json:"privileged,omitempty"`
	// Label is the SELinux label of the process and its files.
	Label selinux.Spec `json:"selinux"`
	// Cgroup holds the resource limits and device rules. Where the caller can have a
	// cgroup (root, or a delegated cgroup v2 subtree), every start gets a cgroup of
	// its own below Cgroup.Parent, joined before the target runs and removed when it
	// is waited for.
	Cgroup cgroup.Spec `json:"cgroup"`
	// NoCgroup runs the sandbox in the caller's cgroup: no cgroup limits (those
	// listed in RlimitFallback become rlimits), no device rules.
	NoCgroup bool `json:"noCgroup,omitempty"`
	// RlimitFallback lists the cgroup limits, LimitMemory and LimitPids, that
	// become resource limits of each process wherever no cgroup can enforce them
	// (an unprivileged caller on cgroup v1 or without a delegated v2 subtree, a
	// missing controller, NoCgroup), as nsjail's rlimits do, instead of failing
	// Build with ErrNotSupported. They are weaker: LimitMemory becomes RLIMIT_AS,
	// which bounds each process's address space (not its memory in use: runtimes
	// that reserve much, such as Go's and the JVM's, need far more than they use)
	// and makes an allocation fail rather than kill; LimitPids becomes
	// RLIMIT_NPROC, which makes a fork fail and counts per user. Since Linux 5.14
	// it counts, in a new user namespace, only that namespace's processes of each
	// uid; without one (or before 5.14) it counts every process of the real uid
	// on the host, the caller's own included, and it never binds host root. The
	// presets list LimitPids, for their DefaultPidsLimit.
	RlimitFallback []Limit `json:"rlimitFallback,omitempty"`
	// Limits bound each run: wall time, CPU time, output (see Limits).
	Limits Limits `json:"limits,omitzero"`

	// optErrs are what options could not put in the Spec (a capability to drop
	// that does not exist); Validate reports the first.
	optErrs []error
}

// SELinux returns the SELinux part of the Spec.
func (s *Spec) SELinux() selinux.Spec { return s.Label }

// Seccomp is the system call filter of a Spec.
type Seccomp struct {
	// Mode is "default" (Docker's profile, with its capability-conditional rules
	// resolved against the sandbox's capabilities), "podman" (the same rules, ENOSYS
	// for unknown calls), "custom" (Profile) or "unconfined" (no filter).
	Mode string `json:"mode,omitempty"`
	// Profile is the filter of the "custom" mode.
	Profile *seccomp.Profile `json:"profile,omitempty"`
}

// The seccomp modes.
const (
	SeccompDefault    = "default"
	SeccompPodman     = "podman"
	SeccompCustom     = "custom"
	SeccompUnconfined = "unconfined"
)

// MaxGroups is the most supplementary groups a User may have: the kernel's
// NGROUPS_MAX, above which setgroups(2) fails.
const MaxGroups = 65536

// User is a user and its groups inside the sandbox. Every ID lies in
// 0..namespace.MaxID and, in a new user namespace, is mapped by its ID maps.
//
// The target has exactly the supplementary groups in Groups (none when it is
// empty), never the caller's, wherever setgroups(2) is allowed: without a user
// namespace, in one whose maps root writes, and with subordinate ranges that
// newgidmap maps. With the single map of an unprivileged caller's own IDs (the
// rootless default), the kernel denies setgroups(2) in the namespace for good: the
// target keeps the caller's own supplementary groups, which it cannot drop. They
// read as the overflow gid (65534, "nogroup") inside and still grant what they
// grant on the host's files; Groups must then be empty.
type User struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
}

// Rlimit is one resource limit, named as in getrlimit(2) ("RLIMIT_NOFILE" or "nofile").
type Rlimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// SpawnMode says how the child is cloned.
type SpawnMode string

// The spawn modes.
const (
	// SpawnAuto uses vfork where it applies (a new user namespace mapping only the
	// caller's own ID, or none) and fork otherwise.
	SpawnAuto SpawnMode = "auto"
	// SpawnFork copies the parent's address space; the parent writes ID maps and
	// releases the child.
	SpawnFork SpawnMode = "fork"
	// SpawnVfork shares the address space until exec: the start cost does not grow
	// with the parent's heap. The child writes its own single-ID map.
	SpawnVfork SpawnMode = "vfork"
)

var rlimitNames = map[string]int{
	"cpu": unix.RLIMIT_CPU, "fsize": unix.RLIMIT_FSIZE, "data": unix.RLIMIT_DATA,
	"stack": unix.RLIMIT_STACK, "core": unix.RLIMIT_CORE, "rss": unix.RLIMIT_RSS,
	"nproc": unix.RLIMIT_NPROC, "nofile": unix.RLIMIT_NOFILE, "memlock": unix.RLIMIT_MEMLOCK,
	"as": unix.RLIMIT_AS, "locks": unix.RLIMIT_LOCKS, "sigpending": unix.RLIMIT_SIGPENDING,
	"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "rtprio": unix.RLIMIT_RTPRIO,
	"rttime": unix.RLIMIT_RTTIME,
}

// rlimitResource returns the resource number of a limit name.
func rlimitResource(name string) (int, bool) {
	n := strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "RLIMIT_"))
	r, ok := rlimitNames[n]
	return r, ok
}

// Clone returns a deep copy of s.
func (s *Spec) Clone() *Spec {
	c := *s
	c.Namespaces = s.Namespaces.Clone()
	c.Env = append([]string(nil), s.Env...)
	c.optErrs = append([]error(nil), s.optErrs...)
	c.Rlimits = append([]Rlimit(nil), s.Rlimits...)
	c.cloneProcess(s)
	c.RlimitFallback = append([]Limit(nil), s.RlimitFallback...)
	if s.User != nil {
		u := *s.User
		u.Groups = append([]uint32(nil), s.User.Groups...)
		c.User = &u
	}
	// The remaining slices are copied so that options on the copy never write into
	// the original's arrays.
	c.Rootfs.Lower = append([]string(nil), s.Rootfs.Lower...)
	c.Mounts.Mounts = append([]mounts.Mount(nil), s.Mounts.Mounts...)
	c.Mounts.Binds = append([]mounts.Bind(nil), s.Mounts.Binds...)
	c.Mounts.Tmpfs = append([]mounts.Tmpfs(nil), s.Mounts.Tmpfs...)
	c.Mounts.Masked = append([]string(nil), s.Mounts.Masked...)
	c.Mounts.ReadOnly = append([]string(nil), s.Mounts.ReadOnly...)
	c.Mounts.Hidden = append([]mounts.HiddenPath(nil), s.Mounts.Hidden...)
	if s.HostRoot != nil {
		h := *s.HostRoot
		h.Empty = append([]mounts.Tmpfs(nil), h.Empty...)
		h.Hidden = append([]string(nil), h.Hidden...)
		h.RootOnlyIn = append([]string(nil), h.RootOnlyIn...)
		c.HostRoot = &h
	}
	c.Caps = caps.Spec{
		Bounding:    append([]string(nil), s.Caps.Bounding...),
		Effective:   append([]string(nil), s.Caps.Effective...),
		Permitted:   append([]string(nil), s.Caps.Permitted...),
		Inheritable: append([]string(nil), s.Caps.Inheritable...),
		Ambient:     append([]string(nil), s.Caps.Ambient...),
	}
	c.Cgroup.Resources = s.Cgroup.Resources.Clone()
	c.Cgroup.Devices = append([]cgroup.DeviceRule(nil), s.Cgroup.Devices...)
	if s.Cgroup.Devices == nil {
		c.Cgroup.Devices = nil
	}
	c.Landlock.Rules = append([]landlock.Rule(nil), s.Landlock.Rules...)
	c.Network.Ports = append([]network.Port(nil), s.Network.Ports...)
	if s.Network.Ports == nil {
		c.Network.Ports = nil
	}
	if s.Seccomp.Profile != nil {
		pr := *s.Seccomp.Profile
		c.Seccomp.Profile = &pr
	}
	return &c
}

// JSON returns s as indented JSON.
func (s *Spec) JSON() ([]byte, error) { return json.MarshalIndent(s, "", "  ") }

// ParseSpec reads a Spec from JSON: one object, with no unknown field and nothing
// after it. It does not validate it; Build does.
func ParseSpec(data []byte) (*Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, &SpecError{Field: "json", Err: err}
	}
	// A second value would be ignored silently: refuse it, and any other trailing text.
	if _, err := dec.Token(); err != io.EOF {
		return nil, specErr("json", "trailing data after the Spec at offset %d", dec.InputOffset())
	}
	return &s, nil
}

// Validate checks s without touching the kernel beyond reading files (ID ranges,
// namespace paths). It is what Build runs first.
func (s *Spec) Validate() error {
	c := s.Clone()
	return c.validate(callerIDs())
}

// autoMap is the map that represents an automatic range before a start allocates
// one: the first block that Allocate would try (namespace.FirstBlock), or one of
// the suggested range where the ranges are not read yet.
func autoMap(r *namespace.AutoRange, which string) []namespace.IDMap {
	ranges := r.UID
	if which == "gid" {
		ranges = r.GID
	}
	size := r.Size
	if size == 0 {
		size = namespace.AutoSize
	}
	start, ok := namespace.FirstBlock(ranges, size)
	if !ok {
		start = namespace.SuggestedAutoStart
	}
	return []namespace.IDMap{{ContainerID: 0, HostID: start, Size: size}}
}

type ids struct{ uid, gid int }

// validate checks s for caller c: it runs specChecks in order and returns the
// first error. It resolves an automatic ID range in place (see checkNamespaces).
func (s *Spec) validate(c ids) error {
	for _, sc := range specChecks {
		if err := sc.check(s, c); err != nil {
			return err
		}
	}
	return nil
}

// A specCheck is one of validate's checks: name says what it checks, and check
// returns a *SpecError naming the Spec's field at fault.
type specCheck struct {
	name  string
	check func(s *Spec, c ids) error
}

// specChecks are validate's checks in the order it runs them. Order matters where a
// check reads what an earlier one resolved or vouched for: the namespaces come first,
// since the automatic ID range they resolve is what the user, spawn and ID map
// checks read.
var specChecks = []specCheck{
	{"namespaces", (*Spec).checkNamespaces},
	{"namespace owners", specOnly((*Spec).checkNamespaceOwner)},
	{"user", (*Spec).validateIDs},
	{"hostname", specOnly((*Spec).checkHostname)},
	{"env", specOnly((*Spec).checkEnv)},
	{"options", specOnly((*Spec).checkOptions)},
	{"workdir", specOnly((*Spec).checkWorkdir)},
	{"rlimits", specOnly((*Spec).checkRlimits)},
	{"process", (*Spec).checkProcess},
	{"init", specOnly((*Spec).checkInit)},
	{"spawn", (*Spec).checkSpawn},
	{"parentDeathSignal", specOnly((*Spec).checkParentDeathSignal)},
	{"hold", specOnly((*Spec).checkHold)},
	{"detached", (*Spec).checkDetached},
	{"sharedNetNS", (*Spec).checkSharedNetNS},
	{"network", (*Spec).checkNetwork},
	{"rootfs and mounts", specOnly((*Spec).checkFilesystem)},
	{"tmpfs copy-up", (*Spec).checkCopyUp},
	{"capabilities", specOnly((*Spec).checkCaps)},
	{"seccomp", specOnly((*Spec).checkSeccomp)},
	{"selinux", specOnly((*Spec).checkLabel)},
	{"limits", specOnly((*Spec).validateLimits)},
	{"cgroup", specOnly((*Spec).checkCgroup)},
	{"landlock", specOnly((*Spec).checkLandlock)},
}

// specOnly adapts a check that does not depend on the caller.
func specOnly(check func(*Spec) error) func(*Spec, ids) error {
	return func(s *Spec, _ ids) error { return check(s) }
}

// checkNamespaces validates the namespaces for caller c and resolves an automatic ID
// range once, so that a start allocates from it without reading a file.
func (s *Spec) checkNamespaces(c ids) error {
	if err := s.Namespaces.Validate(c.uid, c.gid); err != nil {
		return &SpecError{Field: "namespaces", Err: err}
	}
	a := s.Namespaces.Auto
	if a == nil {
		return nil
	}
	r, err := a.Resolve()
	if err != nil {
		return &SpecError{Field: "namespaces", Err: err}
	}
	s.Namespaces.Auto = &r
	return nil
}

// checkHostname checks that a hostname or domain name has a uts namespace of
// the sandbox's, new or joined, to be set in, and that the kernel takes it: at
// most 64 bytes, no NUL.
func (s *Spec) checkHostname() error {
	if s.Hostname == "" && s.Domainname == "" {
		return nil
	}
	if m := s.Namespaces.Mode(namespace.UTS); m != namespace.New && m != namespace.Join {
		return specErr("hostname", "a hostname needs a uts namespace other than the host's, new or joined")
	}
	if len(s.Hostname) > 64 || len(s.Domainname) > 64 {
		return specErr("hostname", "longer than 64 bytes")
	}
	if strings.IndexByte(s.Hostname, 0) >= 0 || strings.IndexByte(s.Domainname, 0) >= 0 {
		return specErr("hostname", "%q (domain name %q) holds a NUL byte", s.Hostname, s.Domainname)
	}
	return nil
}

// checkEnv checks that every variable is KEY=VALUE with a KEY and no NUL.
func (s *Spec) checkEnv() error {
	for i, e := range s.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.IndexByte(e, 0) >= 0 {
			return specErr(fmt.Sprintf("env[%d]", i), "%q is not KEY=VALUE with a KEY", e)
		}
	}
	return nil
}

// checkOptions returns the first error of an option that could not edit the Spec.
func (s *Spec) checkOptions() error {
	if len(s.optErrs) > 0 {
		return s.optErrs[0]
	}
	return nil
}

// checkWorkdir checks that the working directory is absolute.
func (s *Spec) checkWorkdir() error {
	if s.Workdir != "" && !filepath.IsAbs(s.Workdir) {
		return specErr("workdir", "%q is not absolute", s.Workdir)
	}
	return nil
}

// checkRlimits checks that every resource limit names a resource and that its soft
// limit is within its hard one.
func (s *Spec) checkRlimits() error {
	for i, r := range s.Rlimits {
		if _, ok := rlimitResource(r.Type); !ok {
			return specErr(fmt.Sprintf("rlimits[%d]", i), "unknown resource %q", r.Type)
		}
		if r.Soft > r.Hard {
			return specErr(fmt.Sprintf("rlimits[%d]", i), "soft limit %d above hard limit %d", r.Soft, r.Hard)
		}
	}
	return nil
}

// checkInit checks that an init has a new pid namespace to be PID 1 of, or a
// joined one to fork the target into.
func (s *Spec) checkInit() error {
	if m := s.Namespaces.Mode(namespace.PID); s.Init && m != namespace.New && m != namespace.Join {
		return specErr("init", "an init needs a new pid namespace, or a joined one to fork the target into")
	}
	return nil
}

// checkSpawn checks the spawn mode, and that vfork mode, where the parent cannot
// act between the clone and the exec, needs nothing of it for caller c.
func (s *Spec) checkSpawn(c ids) error {
	switch s.Spawn {
	case "", SpawnAuto, SpawnFork:
		return nil
	case SpawnVfork:
	default:
		return specErr("spawn", "unknown mode %q", s.Spawn)
	}
	if s.Init {
		return specErr("spawn", "vfork mode cannot have an init: the parent would wait for it to exec")
	}
	if s.Handover() {
		return specErr("spawn", "vfork mode cannot join a pid namespace: the target is cloned into it by a child that the parent reaps")
	}
	if s.Namespaces.Mode(namespace.User) != namespace.New {
		return nil
	}
	if !s.singleOwnMap(c) {
		return specErr("spawn", "vfork mode cannot have the parent write ID maps: it needs the single mapping of the caller's own IDs")
	}
	if s.hasGroups() {
		return specErr("spawn", "vfork mode denies setgroups(2) in the user namespace, whose map the child writes itself: supplementary groups need fork mode")
	}
	return nil
}

// checkParentDeathSignal checks that the parent-death signal is a signal number.
func (s *Spec) checkParentDeathSignal() error {
	if s.ParentDeathSignal < 0 || s.ParentDeathSignal > 64 {
		return specErr("parentDeathSignal", "%d is not a signal", s.ParentDeathSignal)
	}
	return nil
}

// checkHold checks that a held start can be held: in fork mode, and without a
// Landlock ruleset, which would refuse the open of a FIFO outside every rule.
func (s *Spec) checkHold() error {
	switch {
	case !s.Hold && s.HoldBeforePivot:
		return specErr("hold", "a stop before pivot_root (HoldBeforePivot) is a held start's (Hold)")
	case !s.Hold:
		return nil
	case s.Spawn == SpawnVfork:
		return specErr("hold", "a held start needs fork mode: a vfork child holds the calling thread until it executes")
	case len(s.Landlock.Rules) > 0:
		return &SpecError{NotSupported: true, Field: "hold", Err: errors.New(
			"a held start opens its FIFO, outside the sandbox's root, after the Landlock ruleset is enforced, which forbids it")}
	}
	return nil
}

// checkDetached checks that nothing of a detached sandbox needs the process
// that started it once it is given up.
func (s *Spec) checkDetached(c ids) error {
	if !s.Detached {
		return nil
	}
	why := ""
	switch {
	case s.ParentDeathSignal != 0:
		why = "a parent-death signal would kill it with the thread that started it"
	case s.Limits != (Limits{}):
		why = "its run-time limits are enforced by the process that started it"
	case s.Namespaces.Auto != nil:
		why = "its block of IDs is held by the process that started it"
	case s.fuseRoot(s.Namespaces.Mode(namespace.User) == namespace.New):
		why = "its fuse-overlayfs daemon is stopped by the process that started it"
	case s.Network.Enabled():
		why = "its network helper is stopped by the process that started it"
	default:
		return nil
	}
	return &SpecError{NotSupported: true, Field: "detached", Err: errors.New("a detached sandbox outlives the process that started it, but " + why)}
}

// checkSharedNetNS checks that a shared network namespace replaces a new one, and
// that caller c has a user namespace for every start to share: its own, as root.
func (s *Spec) checkSharedNetNS(c ids) error {
	if !s.SharedNetNS {
		return nil
	}
	if s.Namespaces.Mode(namespace.Net) != namespace.New {
		return specErr("sharedNetNS", "a shared network namespace replaces a new one; the Spec has none")
	}
	if s.Namespaces.Mode(namespace.User) != namespace.Host || c.uid != 0 {
		return &SpecError{NotSupported: true, Field: "sharedNetNS", Err: errors.New("a network namespace shared by every start must be owned by a user namespace they share: only root without a user namespace has one")}
	}
	return nil
}

// checkFilesystem checks the root filesystem and the mounts, which need a new mount
// namespace.
func (s *Spec) checkFilesystem() error {
	if err := s.checkRootInPlace(); err != nil {
		return err
	}
	if !s.buildsFilesystem() {
		if s.hasMounts() {
			return specErr("mounts", "a root filesystem, mounts, masks and read-only paths need a new mount namespace")
		}
		return nil
	}
	if s.RootDir != "" {
		if err := s.checkRootDir(); err != nil {
			return err
		}
	} else if !s.NoRootfs {
		r := s.rootfs()
		if err := r.Validate(); err != nil {
			return &SpecError{Field: "rootfs", Err: err}
		}
	}
	if err := s.Mounts.Validate(); err != nil {
		return &SpecError{Field: "mounts", Err: err}
	}
	return nil
}

// checkRootDir checks a root directory: a directory of the host, with nothing of
// an overlay beside it (it takes the writes itself), in a sandbox whose IDs stay
// the same from one start to the next.
func (s *Spec) checkRootDir() error {
	r := &s.Rootfs
	switch {
	case s.NoRootfs:
		return specErr("rootDir", "a root directory replaces the host's root, which noRootfs keeps")
	case len(r.Lower) > 0:
		return specErr("rootfs.lower", "layers %v beside the root directory %s: the root is an overlay or a directory, not both", r.Lower, s.RootDir)
	case r.Upper != "" || r.Work != "":
		return specErr("rootfs.upper", "a persistent writable layer (%s) beside the root directory %s, which takes the writes itself", r.Upper, s.RootDir)
	case r.Driver == overlay.Fuse:
		return specErr("rootfs.driver", "the fuse driver assembles an overlay; the root directory %s is bound as it is", s.RootDir)
	case r.IDMap:
		return specErr("rootfs.idmap", "idmapped layers beside the root directory %s, which is bound as it is", s.RootDir)
	case r.Size != "":
		return specErr("rootfs.size", "%s bounds an overlay's writable layer; the root directory %s writes to its own filesystem", r.Size, s.RootDir)
	case s.Namespaces.Auto != nil:
		return specErr("rootDir", "a root directory (%s) with an automatic ID range: each start gets a block of IDs of its own, "+
			"so what one start writes there belongs to IDs the next does not map; give the user namespace maps of its own (WithUserNS)", s.RootDir)
	}
	if err := mounts.CheckRootDir(s.RootDir); err != nil {
		return &SpecError{Field: "rootDir", Err: err}
	}
	return nil
}

// checkCaps checks that the capability sets name capabilities.
func (s *Spec) checkCaps() error {
	if _, err := s.Caps.Sets(); err != nil {
		return &SpecError{Field: "capabilities", Err: err}
	}
	return nil
}

// checkSeccomp checks the seccomp mode, and that a profile comes with the custom
// mode and only with it.
func (s *Spec) checkSeccomp() error {
	switch s.Seccomp.Mode {
	case "", SeccompDefault, SeccompPodman, SeccompUnconfined:
		if s.Seccomp.Profile != nil {
			return specErr("seccomp", "a profile is given but the mode is %q, not %q", s.Seccomp.Mode, SeccompCustom)
		}
	case SeccompCustom:
		if s.Seccomp.Profile == nil {
			return specErr("seccomp", "mode custom needs a profile")
		}
		if err := s.Seccomp.Profile.Validate(); err != nil {
			return &SpecError{Field: "seccomp", Err: err}
		}
	default:
		return specErr("seccomp", "unknown mode %q", s.Seccomp.Mode)
	}
	return nil
}

// checkLabel checks the SELinux label, and that this host can apply it.
func (s *Spec) checkLabel() error {
	if err := s.Label.Validate(); err != nil {
		return &SpecError{Field: "selinux", Err: err}
	}
	if err := s.Label.Check(); err != nil {
		if errors.Is(err, selinux.ErrNotSupported) {
			return &SpecError{NotSupported: true, Field: "selinux", Err: err}
		}
		return &SpecError{Field: "selinux", Err: err}
	}
	return nil
}

// checkCgroup checks the cgroup, or, without one, that no limit needs it.
func (s *Spec) checkCgroup() error {
	if s.NoCgroup {
		return s.noCgroupError()
	}
	if err := s.Cgroup.Validate(); err != nil {
		return &SpecError{Field: "cgroup", Err: err}
	}
	return nil
}

// checkLandlock checks the Landlock rules, whose paths lie inside the sandbox's
// root and so need a new mount namespace.
func (s *Spec) checkLandlock() error {
	if err := s.Landlock.Validate(); err != nil {
		return &SpecError{Field: "landlock", Err: err}
	}
	if len(s.Landlock.Rules) > 0 && !s.buildsFilesystem() {
		return specErr("landlock", "Landlock rules name paths inside the sandbox's root: they need a new mount namespace")
	}
	return nil
}

// checkNamespaceOwner checks that the child can create and enter the Spec's
// namespaces. (A joined pid namespace gets its target by a handover, or from an
// init: see Handover.) Without a new
// user namespace, new namespaces need CAP_SYS_ADMIN; with a joined one, every new
// namespace but pid is created inside it, and a new pid namespace, made by
// clone3 before the join, needs CAP_SYS_ADMIN in the caller's own.
func (s *Spec) checkNamespaceOwner() error {
	ns := &s.Namespaces
	user := ns.Mode(namespace.User)
	if user == namespace.New || callerHas(caps.SysAdmin) {
		return nil
	}
	for _, k := range namespace.Kinds {
		if k == namespace.User || ns.Mode(k) != namespace.New {
			continue
		}
		if user == namespace.Join && k != namespace.PID {
			continue
		}
		why := "without a new user namespace"
		if user == namespace.Join {
			why = "outside the joined user namespace"
		}
		return &SpecError{NotSupported: true, Field: "namespaces." + string(k), Err: fmt.Errorf(
			"a new %s namespace %s needs CAP_SYS_ADMIN, which this caller lacks", k, why)}
	}
	return nil
}

// callerHas reports whether the calling process holds capability c in its
// effective set.
func callerHas(c caps.Cap) bool {
	own, err := caps.Inspect(0)
	return err == nil && own.Effective.Has(c)
}

// onHostRoot reports whether the sandbox's root is the embedded default: the
// host's own "/" as the only lower layer.
func (s *Spec) onHostRoot() bool {
	return s.buildsFilesystem() && !s.NoRootfs && s.RootDir == "" && len(s.Rootfs.Lower) == 0
}

// dirRoot reports whether the sandbox's root is the directory RootDir.
func (s *Spec) dirRoot() bool {
	return s.buildsFilesystem() && !s.NoRootfs && s.RootDir != ""
}

// hostRoot returns what the Spec hides of the host's "/" where that is its root.
func (s *Spec) hostRoot() mounts.HostRoot {
	if s.HostRoot == nil {
		return mounts.DefaultHostRoot()
	}
	return *s.HostRoot
}

// rootfs returns the overlay of the Spec, with the embedded default (the host's
// "/" as the only lower layer) when no layer is given.
func (s *Spec) rootfs() overlay.Spec {
	r := s.Rootfs
	if len(r.Lower) == 0 {
		r.Lower = []string{"/"}
		return r
	}
	if s.Namespaces.Auto != nil && !s.UnmappedLayers && r.Driver != overlay.Fuse {
		r.IDMap = true
	}
	return r
}

// detachedMounts reports whether a start copies host mounts for the child
// (idmapped layers or binds), which the parent must change between the clone and
// the child's release: fork mode only.
func (s *Spec) detachedMounts() bool {
	if len(s.Rootfs.Lower) > 0 && s.rootfs().IDMap {
		return true
	}
	for _, b := range s.Mounts.Binds {
		if b.IDMap {
			return true
		}
	}
	return false
}

func (s *Spec) hasMounts() bool {
	m := &s.Mounts
	return len(s.Rootfs.Lower) > 0 || s.RootDir != "" || len(m.Mounts) > 0 || len(m.Binds) > 0 || len(m.Tmpfs) > 0 || m.ReadonlyRoot
}

// singleOwnMap reports whether the user namespace maps only the caller's own uid and gid
// to root, the one map a child may write for itself.
func (s *Spec) singleOwnMap(c ids) bool {
	ok := func(m []namespace.IDMap, id int) bool {
		return len(m) == 0 || (len(m) == 1 && m[0].ContainerID == 0 && int(m[0].HostID) == id && m[0].Size == 1)
	}
	return s.Namespaces.Auto == nil && ok(s.Namespaces.UIDMap, c.uid) && ok(s.Namespaces.GIDMap, c.gid)
}

func callerIDs() ids { return ids{unix.Geteuid(), unix.Getegid()} }
