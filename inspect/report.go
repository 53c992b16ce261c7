package inspect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
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

// Self reports on the calling process. Inside a sandbox it tells what the
// sandbox isolates, as far as it can be seen from inside.
func Self() (*Report, error) {
	pid, err := SelfPID()
	if err != nil {
		return nil, err
	}
	return Process(pid)
}

// Process reports on process pid (0 for the caller). PID 1's namespace files are the
// reference when the caller may read them and PID 1 is outside pid's pid namespace;
// otherwise the calling process is, when it is not pid itself; otherwise namespaces
// are judged by the fixed inode numbers of the kernel's initial namespaces. Reasons
// says which was used.
func Process(pid int) (*Report, error) {
	if pid == 0 {
		return Self()
	}
	self, err := SelfPID()
	if err != nil {
		return nil, err
	}
	ref := 0
	for _, cand := range []int{1, self} {
		if cand != pid && usableRef(pid, cand) {
			ref = cand
			break
		}
	}
	return inspect(pid, ref)
}

// ProcessAgainst reports on process pid, judging which namespaces are new by
// comparing them with process ref's (0 for the caller). A sandbox's parent uses it
// with its own pid: ProcessAgainst(p.Pid(), os.Getpid()).
func ProcessAgainst(pid, ref int) (*Report, error) {
	self, err := SelfPID()
	if err != nil {
		return nil, err
	}
	if pid == 0 {
		pid = self
	}
	if ref == 0 {
		ref = self
	}
	return inspect(pid, ref)
}

// i386For returns the i386 gate of process pid as this process can tell it.
func i386For(pid int) seccomp.I386 {
	g, err := seccomp.I386Gate()
	if err != nil {
		return ""
	}
	if self, err := SelfPID(); err == nil && self == pid {
		return g
	}
	if g == seccomp.I386Filtered {
		return "" // this process's filter hides what pid meets
	}
	return g
}

// SelfPID returns the caller's pid as /proc numbers it: inside a new pid namespace
// that still sees the host's /proc, that is the host's pid, not getpid's.
func SelfPID() (int, error) {
	l, err := os.Readlink("/proc/self")
	if err != nil {
		return 0, fmt.Errorf("inspect: %w", err)
	}
	return strconv.Atoi(l)
}

// usableRef reports whether process ref's namespaces can be read and tell something
// about pid's: ref must not sit in pid's own (non-initial) pid namespace, as PID 1
// does inside a sandbox that mounted its own /proc.
func usableRef(pid, ref int) bool {
	var rs, ps unix.Stat_t
	for _, k := range namespace.Kinds {
		if k == namespace.Time {
			continue // absent on older kernels
		}
		if unix.Stat(k.Path(ref), &rs) != nil {
			return false
		}
	}
	if unix.Stat(namespace.PID.Path(ref), &rs) != nil || unix.Stat(namespace.PID.Path(pid), &ps) != nil {
		return false
	}
	return rs.Ino != ps.Ino || InitialNamespace(namespace.PID, rs.Ino)
}

// The kernel numbers its initial namespaces with fixed inodes (PROC_*_INIT_INO in
// include/linux/proc_ns.h) and every later one from 0xF0000000 up. Net and mnt have
// fixed numbers only on recent kernels (verified on 6.18).
var initInodes = map[namespace.Kind]uint64{
	namespace.IPC:    0xEFFFFFFF,
	namespace.UTS:    0xEFFFFFFE,
	namespace.User:   0xEFFFFFFD,
	namespace.PID:    0xEFFFFFFC,
	namespace.Cgroup: 0xEFFFFFFB,
	namespace.Time:   0xEFFFFFFA,
	namespace.Net:    0xEFFFFFF9,
	namespace.Mount:  0xEFFFFFF8,
}

const firstDynamicInode = 0xF0000000

// InitialNamespace reports whether ino is the inode of the kernel's initial namespace
// of kind k (the host's), as the kernel numbers it.
func InitialNamespace(k namespace.Kind, ino uint64) bool { return ino != 0 && initInodes[k] == ino }

// staticallyNumbered reports whether this kernel gives the initial namespace of k a
// fixed inode, so that any other inode means a namespace that is not the host's.
func staticallyNumbered(k namespace.Kind) bool {
	if k != namespace.Net && k != namespace.Mount {
		return true
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var major, minor int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor)
	return major > 6 || (major == 6 && minor >= 18)
}

// inspect fills a Report on pid, comparing with ref (0: no reference).
func inspect(pid, ref int) (*Report, error) {
	r := &Report{PID: pid, RefPID: ref}
	st, err := readStatus(pid)
	if err != nil {
		return nil, fmt.Errorf("inspect: pid %d: %w", pid, err)
	}
	r.UID, r.GID, r.NoNewPrivs = st.uid, st.gid, st.noNewPrivs

	if ref != 0 {
		r.Reference = "pid " + strconv.Itoa(ref)
	} else {
		r.Reference = "the kernel's initial namespaces"
	}
	nsRef := ref
	if nsRef == 0 {
		nsRef = pid
	}
	ni, err := namespace.InspectAgainst(pid, nsRef)
	if err != nil {
		return nil, fmt.Errorf("inspect: pid %d: %w", pid, err)
	}
	r.UIDMap, r.GIDMap, r.Setgroups = ni.UIDMap, ni.GIDMap, ni.Setgroups
	for _, n := range ni.NS {
		e := NamespaceReport{Kind: n.Kind, Inode: n.Inode, ForChildren: n.ForChildren, Err: n.Err, State: NSUnknown}
		e.Initial = InitialNamespace(n.Kind, n.Inode)
		switch {
		case !n.Present:
		case ref != 0 && n.SharedKnown:
			var rs unix.Stat_t
			if unix.Stat(n.Kind.Path(ref), &rs) == nil {
				e.RefInode = rs.Ino
			}
			e.State = NSNew
			if n.Shared {
				e.State = NSShared
			}
		case ref != 0:
			e.Err = "the reference's namespace cannot be read"
		case e.Initial:
			e.State = NSShared
		case n.Inode >= firstDynamicInode && staticallyNumbered(n.Kind):
			e.State = NSNew
		}
		r.Namespaces = append(r.Namespaces, e)
	}

	r.inspectCaps(pid, ref, st.nspid)
	if s, err := seccomp.Inspect(pid); err != nil {
		r.Seccomp = SeccompReport{Mode: "unknown", Filters: -1, Err: err.Error()}
	} else {
		r.Seccomp = SeccompReport{Mode: seccompMode(s.Mode), Filters: s.Filters}
	}
	r.Seccomp.I386 = i386For(pid)
	r.inspectMounts(pid, r.Get(namespace.PID).Initial || len(st.nspid) > 1)
	r.SELinux.Enabled = selinux.Enabled()
	if l, err := selinux.Inspect(pid); err != nil {
		r.SELinux.Err = err.Error()
	} else {
		r.SELinux.Label = l
	}
	r.Landlock = LandlockReport{Enforced: "unknown",
		Note: "the kernel does not show a process's Landlock domain, from outside or inside"}
	if abi, err := landlock.ABI(); err == nil {
		r.Landlock.ABI = abi
	}
	r.inspectCgroup(pid)
	r.Rlimits = ReadRlimits(pid)
	r.Classify()
	if ref == 0 {
		r.Reasons = append(r.Reasons, "no other process's namespaces could be read: namespaces were judged by the fixed inode numbers of the kernel's initial namespaces")
	}
	return r, nil
}

func (r *Report) inspectCaps(pid, ref int, nspid []int) {
	s, err := caps.Inspect(pid)
	if err != nil {
		r.Capabilities.Err = err.Error()
		return
	}
	base, baseline := caps.Full(), fullBaseline
	if ref != 0 {
		if rs, err := caps.Inspect(ref); err == nil {
			base, baseline = rs.Bounding, "the bounding set of pid "+strconv.Itoa(ref)
		}
	} else if len(nspid) > 1 && pid != 1 {
		// The reader's /proc belongs to an ancestor of pid's pid namespace, so its
		// PID 1 is outside the sandbox.
		if rs, err := caps.Inspect(1); err == nil {
			base, baseline = rs.Bounding, "the bounding set of pid 1"
		}
	}
	r.Capabilities = NewCapabilityReport(s, base, baseline)
}

// NewCapabilityReport lists the sets s by name, and as Dropped the capabilities of
// base that s's bounding set lacks; baseline says what base is ("the bounding set
// of pid N").
func NewCapabilityReport(s caps.Sets, base caps.Set, baseline string) CapabilityReport {
	return CapabilityReport{
		Bounding: names(s.Bounding), Effective: names(s.Effective), Permitted: names(s.Permitted),
		Inheritable: names(s.Inheritable), Ambient: names(s.Ambient),
		Dropped: names(base &^ s.Bounding), Baseline: baseline,
	}
}

// fullBaseline is the Baseline of a bounding set compared with every capability.
const fullBaseline = "every capability of the kernel"

func names(s caps.Set) []string {
	n := s.Names()
	if n == nil {
		n = []string{}
	}
	return n
}

func seccompMode(m seccomp.Mode) string {
	switch m {
	case seccomp.ModeDisabled:
		return "disabled"
	case seccomp.ModeStrict:
		return "strict"
	case seccomp.ModeFilter:
		return "filter"
	}
	return "unknown"
}

// inspectMounts reads pid's mounts; hostView says whether PID 1 of the reader's /proc
// is outside pid's pid namespace, so that its mount table is the host's.
func (r *Report) inspectMounts(pid int, hostView bool) {
	mi, err := mounts.Inspect(pid)
	if err != nil {
		r.Mounts = MountReport{Masked: []string{}, ReadOnly: []string{}, Err: err.Error()}
		return
	}
	m := &r.Mounts
	m.Masked, m.Unmasked = nonNil(mi.Masked), mi.Unmasked
	m.ReadOnly, m.Writable = nonNil(mi.ReadOnly), mi.Writable
	if !hostView {
		m.HostVisible = -1
		return
	}
	m.HostVisible = len(mi.HostVisible)
	for _, h := range mi.HostVisible {
		if h.HostMountpoint == "/" && h.Root == "/" {
			m.HostRoot = append(m.HostRoot, h.Mountpoint)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (r *Report) inspectCgroup(pid int) {
	ci, err := cgroup.Inspect(pid)
	if err != nil {
		r.Cgroup.Err = err.Error()
		return
	}
	c := &r.Cgroup
	c.Paths = make(map[string]string, len(ci.V1)+1)
	for k, v := range ci.V1 {
		c.Paths[k] = v
	}
	if ci.HasV2 {
		c.Paths["unified"] = ci.V2
	}
	c.Memory, c.Pids, c.CPUQuota, c.CPUPeriod = ci.Memory, ci.Pids, ci.CPUQuota, ci.CPUPeriod
}

// NoNewPrivs reports whether process pid has the no_new_privs flag (NoNewPrivs: in
// /proc/PID/status).
func NoNewPrivs(pid int) (bool, error) {
	st, err := readStatus(pid)
	return st.noNewPrivs, err
}

// procStatusState holds the lines of /proc/PID/status that the report uses.
type procStatusState struct {
	uid, gid   int
	noNewPrivs bool
	nspid      []int
}

func readStatus(pid int) (procStatusState, error) {
	st := procStatusState{uid: -1, gid: -1}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return st, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		switch key {
		case "Uid", "Gid":
			if len(f) >= 2 {
				id, _ := strconv.Atoi(f[1]) // effective
				if key == "Uid" {
					st.uid = id
				} else {
					st.gid = id
				}
			}
		case "NoNewPrivs":
			st.noNewPrivs = len(f) == 1 && f[0] == "1"
		case "NSpid":
			for _, x := range f {
				n, _ := strconv.Atoi(x)
				st.nspid = append(st.nspid, n)
			}
		}
	}
	return st, nil
}

// Classify sets Kind, Rootless and Reasons from the other fields of r:
//
//   - host: no namespace is new.
//   - super-privileged: a new mount namespace, but the pid, net and ipc namespaces
//     are shared (the host's / is usually visible at /host).
//   - privileged: new namespaces, but no capability dropped from the bounding set, no
//     seccomp filter and no masked or read-only path of /proc and /sys.
//   - rootless: otherwise, with a new user namespace in which root is an unprivileged
//     user outside.
//   - rootful: otherwise: root inside is root outside, held in by namespaces,
//     capabilities, seccomp and masks.
//
// Rootless is set for every kind whose user namespace maps root inside to an
// unprivileged uid outside.
func (r *Report) Classify() {
	state, newKinds, shared, unknown := r.namespaceStates()
	var reasons []string
	if len(unknown) > 0 {
		reasons = append(reasons, "could not judge the "+strings.Join(unknown, ", ")+" namespaces")
	}
	if len(newKinds) == 0 {
		r.Kind, r.Rootless = KindHost, false
		reasons = append(reasons, "no namespace is new ("+strings.Join(shared, ", ")+" shared with "+r.Reference+"): not isolated, a host process")
		r.Reasons = reasons
		return
	}
	reasons = append(reasons, "new namespaces: "+strings.Join(newKinds, ", "))
	reasons = append(reasons, r.classifyUser(state[namespace.User]))
	reasons = append(reasons, r.capsReasons()...)
	reasons = append(reasons, r.seccompReason(), r.masksReason())
	if r.NoNewPrivs {
		reasons = append(reasons, "no_new_privs is set: execve grants no privileges")
	}
	reasons = append(reasons, r.classifyKind(state)...)
	if len(r.Mounts.HostRoot) > 0 && r.Kind != KindSuperPrivileged {
		reasons = append(reasons, "the host's / is visible at "+strings.Join(r.Mounts.HostRoot, ", "))
	}
	r.Reasons = reasons
}

// namespaceStates returns the state of each kind of namespace, and the kinds that
// are new, shared and of unknown state, in the order of r.Namespaces.
func (r *Report) namespaceStates() (state map[namespace.Kind]NSState, newKinds, shared, unknown []string) {
	state = map[namespace.Kind]NSState{}
	for _, n := range r.Namespaces {
		state[n.Kind] = n.State
		switch n.State {
		case NSNew:
			newKinds = append(newKinds, string(n.Kind))
		case NSShared:
			shared = append(shared, string(n.Kind))
		default:
			unknown = append(unknown, string(n.Kind))
		}
	}
	return state, newKinds, shared, unknown
}

// classifyUser sets Rootless where the user namespace, in state st, maps root
// inside to an unprivileged user outside, and says who root inside is outside.
func (r *Report) classifyUser(st NSState) string {
	r.Rootless = false
	switch st {
	case NSNew:
		switch root, ok := hostIDOf(r.UIDMap, 0); {
		case mapsHostRoot(r.UIDMap):
			if ok && root == 0 {
				return "new user namespace, but root inside is root (uid 0) outside: rootful"
			}
			return "new user namespace, but its uid map reaches root (uid 0) outside: rootful"
		case ok:
			r.Rootless = true
			return fmt.Sprintf("new user namespace: root inside is uid %d outside", root)
		default:
			r.Rootless = true
			return "new user namespace: root inside is not mapped, and no uid inside is root outside"
		}
	case NSShared:
		return "no new user namespace: root inside is root outside"
	default:
		return "the user namespace is unknown: taken as rootful"
	}
}

// capsFull reports whether the bounding set is known and lacks nothing.
func (r *Report) capsFull() bool {
	return r.Capabilities.Err == "" && len(r.Capabilities.Dropped) == 0
}

// noSeccomp reports whether the process is known to have no seccomp filter.
func (r *Report) noSeccomp() bool { return r.Seccomp.Err == "" && r.Seccomp.Mode == "disabled" }

// noMasks reports whether /proc and /sys are known to have no masked or read-only path.
func (r *Report) noMasks() bool {
	return r.Mounts.Err == "" && len(r.Mounts.Masked) == 0 && len(r.Mounts.ReadOnly) == 0
}

// capsReasons says what the bounding set lacks.
func (r *Report) capsReasons() []string {
	c := &r.Capabilities
	switch {
	case c.Err != "":
		return []string{"capabilities unknown: " + c.Err}
	case r.capsFull():
		return []string{"no capability dropped from the bounding set (compared with " + c.Baseline + ")"}
	}
	reasons := []string{fmt.Sprintf("%s dropped from the bounding set (compared with %s)", plural(len(c.Dropped), "capability"), c.Baseline)}
	if c.Baseline == fullBaseline && len(c.Dropped) <= 3 {
		reasons = append(reasons, "without a process outside to compare with, a capability that the host itself lacks ("+
			strings.Join(c.Dropped, ", ")+") also counts as dropped")
	}
	return reasons
}

// seccompReason says which seccomp mode and filters the process has.
func (r *Report) seccompReason() string {
	switch {
	case r.Seccomp.Err != "":
		return "seccomp unknown: " + r.Seccomp.Err
	case r.noSeccomp():
		return "no seccomp filter"
	case r.Seccomp.Mode == "filter":
		return "seccomp filter mode with " + plural(r.Seccomp.Filters, "filter")
	default:
		return "seccomp mode " + r.Seccomp.Mode
	}
}

// masksReason says how many paths of /proc and /sys are masked and read-only.
func (r *Report) masksReason() string {
	switch {
	case r.Mounts.Err != "":
		return "mounts unknown: " + r.Mounts.Err
	case r.noMasks():
		return "no masked or read-only path in /proc and /sys"
	default:
		return fmt.Sprintf("%s masked and %d read-only in /proc and /sys", plural(len(r.Mounts.Masked), "path"), len(r.Mounts.ReadOnly))
	}
}

// classifyKind sets Kind from the namespaces' states, the mechanisms and Rootless,
// and says why.
func (r *Report) classifyKind(state map[namespace.Kind]NSState) []string {
	hostWide := state[namespace.PID] == NSShared && state[namespace.Net] == NSShared && state[namespace.IPC] == NSShared
	switch {
	case state[namespace.Mount] == NSNew && hostWide:
		r.Kind = KindSuperPrivileged
		host := "super-privileged, although the host's / is not visible at /host"
		if hasString(r.Mounts.HostRoot, "/host") {
			host = "the host's / is visible at /host: super-privileged"
		}
		return []string{"the mount namespace is new but the host's pid, net and ipc namespaces are shared", host}
	case r.capsFull() && r.noSeccomp() && r.noMasks():
		r.Kind = KindPrivileged
		return []string{"all capabilities, no seccomp and no masks, held in by namespaces only: privileged"}
	case r.Rootless:
		r.Kind = KindRootless
		return []string{"root inside is unprivileged outside: rootless"}
	default:
		r.Kind = KindRootful
		return []string{"started by root without a user namespace of an unprivileged user: rootful"}
	}
}

// hostIDOf returns the outside ID that id inside maps to.
func hostIDOf(m []namespace.IDMap, id uint32) (uint32, bool) {
	for _, e := range m {
		if id >= e.ContainerID && id-e.ContainerID < e.Size {
			return e.HostID + (id - e.ContainerID), true
		}
	}
	return 0, false
}

// mapsHostRoot reports whether some ID inside maps to uid 0 outside.
func mapsHostRoot(m []namespace.IDMap) bool {
	for _, e := range m {
		if e.HostID == 0 && e.Size > 0 {
			return true
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// WriteText writes r as a table for people, in the manner of amicontained: the kind
// and its reasons, then one line per namespace and per mechanism.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	r.kindRows(row)
	r.namespaceRows(row)
	row("UID map", "%s", idMapText(r.UIDMap))
	row("GID map", "%s (setgroups %s)", idMapText(r.GIDMap), r.Setgroups)
	row("UID/GID", "%d/%d", r.UID, r.GID)
	r.Capabilities.rows(row)
	r.Seccomp.rows(row)
	row("NoNewPrivs", "%v", r.NoNewPrivs)
	r.Mounts.rows(row)
	r.SELinux.rows(row)
	r.Landlock.rows(row)
	r.Cgroup.rows(row)
	row("Rlimits", "%s", rlimitsText(r.Rlimits))
	return tw.Flush()
}

// A textRow writes one row of WriteText's table: a heading (empty under the row
// that has it) and a value formatted as by fmt.Sprintf.
type textRow func(k, format string, args ...any)

// kindRows writes the kind and the reasons for it.
func (r *Report) kindRows(row textRow) {
	row("PID", "%d (compared with %s)", r.PID, r.Reference)
	kind := r.Kind
	if r.Rootless && r.Kind != KindRootless {
		kind += " (rootless)"
	}
	row("Kind", "%s", kind)
	for _, s := range r.Reasons {
		row("", "- %s", s)
	}
}

// namespaceRows writes one row per namespace.
func (r *Report) namespaceRows(row textRow) {
	for i, n := range r.Namespaces {
		k := ""
		if i == 0 {
			k = "Namespaces"
		}
		row(k, "%s", n.text())
	}
}

// text describes n on one line: kind, state, inode, and how it differs.
func (n NamespaceReport) text() string {
	desc := fmt.Sprintf("%-7s%-8s%s:[%d]", n.Kind, n.State, n.Kind, n.Inode)
	if n.RefInode != 0 && n.RefInode != n.Inode {
		desc += fmt.Sprintf(" (reference %d)", n.RefInode)
	}
	if n.Initial {
		desc += " initial"
	}
	if n.ForChildren != 0 {
		desc += fmt.Sprintf(" children:[%d]", n.ForChildren)
	}
	if n.Err != "" {
		desc += " " + n.Err
	}
	return desc
}

// rows writes the capability sets and what was dropped.
func (c CapabilityReport) rows(row textRow) {
	if c.Err != "" {
		row("Capabilities", "unknown: %s", c.Err)
		return
	}
	row("Capabilities", "effective %s", capText(c.Effective))
	row("", "bounding %s", capText(c.Bounding))
	row("", "permitted %s, inheritable %s, ambient %s", capText(c.Permitted), capText(c.Inheritable), capText(c.Ambient))
	if len(c.Dropped) > 8 {
		row("", "dropped %d (from %s)", len(c.Dropped), c.Baseline)
	} else {
		row("", "dropped %s (from %s)", capText(c.Dropped), c.Baseline)
	}
}

// rows writes the seccomp mode and the i386 gate.
func (s SeccompReport) rows(row textRow) {
	if s.Err != "" {
		row("Seccomp", "unknown: %s", s.Err)
	} else if s.Mode == "filter" {
		row("Seccomp", "filter (%s)", plural(s.Filters, "filter"))
	} else {
		row("Seccomp", "%s", s.Mode)
	}
	if s.I386 != "" {
		row("", "i386 gate %s", s.I386)
	}
}

// rows writes the masked and read-only paths and the host's visible mounts.
func (m MountReport) rows(row textRow) {
	if m.Err != "" {
		row("Masked paths", "unknown: %s", m.Err)
		return
	}
	row("Masked paths", "%s", listText(m.Masked))
	if len(m.Unmasked) > 0 {
		row("", "not masked: %s", listText(m.Unmasked))
	}
	row("Read-only paths", "%s", listText(m.ReadOnly))
	if len(m.Writable) > 0 {
		row("", "writable: %s", listText(m.Writable))
	}
	if m.HostVisible < 0 {
		row("Host mounts", "unknown: the host's mount table is out of sight")
	} else {
		row("Host mounts", "%d visible; host / at %s", m.HostVisible, listText(m.HostRoot))
	}
}

// rows writes the SELinux label, or why there is none.
func (s SELinuxReport) rows(row textRow) {
	switch {
	case s.Err != "":
		row("SELinux", "unknown: %s", s.Err)
	case !s.Enabled:
		row("SELinux", "disabled on this host")
	default:
		row("SELinux", "%s", s.Label)
	}
}

// rows writes the Landlock ABI and whether a ruleset is enforced.
func (l LandlockReport) rows(row textRow) {
	if l.ABI > 0 {
		row("Landlock", "ABI %d; enforced: %s (%s)", l.ABI, l.Enforced, l.Note)
	} else {
		row("Landlock", "not supported by this kernel")
	}
}

// rows writes the cgroup paths, sorted by hierarchy, and the limits.
func (c CgroupReport) rows(row textRow) {
	if c.Err != "" {
		row("Cgroups", "unknown: %s", c.Err)
		return
	}
	keys := make([]string, 0, len(c.Paths))
	for k := range c.Paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		h := ""
		if i == 0 {
			h = "Cgroups"
		}
		row(h, "%s: %s", k, c.Paths[k])
	}
	row("Limits", "memory %s, pids %s, cpu %s", limitText(c.Memory), limitText(c.Pids), cpuText(c.CPUQuota, c.CPUPeriod))
}

func idMapText(m []namespace.IDMap) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = fmt.Sprintf("%d→%d (%d)", e.ContainerID, e.HostID, e.Size)
	}
	return strings.Join(parts, ", ")
}

func capText(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	set, err := caps.ParseSet(names)
	if err != nil {
		return strings.Join(names, " ")
	}
	all := caps.Full()
	if set&all == all {
		return fmt.Sprintf("all %d", all.Len())
	}
	if set.Len() > all.Len()*3/4 {
		return fmt.Sprintf("all %d but %s", all.Len(), shortCaps((all &^ set).Names()))
	}
	return shortCaps(names)
}

func shortCaps(names []string) string {
	short := make([]string, len(names))
	for i, n := range names {
		short[i] = strings.ToLower(strings.TrimPrefix(n, "CAP_"))
	}
	return strings.Join(short, " ")
}

func listText(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, " ")
}

func limitText(v int64) string {
	switch {
	case v < 0:
		return "unlimited"
	case v == 0:
		return "unknown"
	}
	return strconv.FormatInt(v, 10)
}

func cpuText(quota int64, period uint64) string {
	if quota <= 0 {
		return limitText(quota)
	}
	return fmt.Sprintf("%dµs per %dµs", quota, period)
}

// plural writes n and noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return strconv.Itoa(n) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
